"""Timing helpers shared by the benchmarks that run on accelerators.

Results of JAX, torch (CUDA) and TensorFlow (GPU) calls are dispatched
asynchronously, so a timer must wait for them; copying them to the host to
wait (``np.asarray``) would also time a device-to-host transfer, which on a
GPU costs more than the computation being measured (seen on an H100:
20 MB of scan output took ~18 ms to copy, the scan itself ~1 ms).
"""

import keras


def wait(tree):
    """Block until every tensor in ``tree`` is computed, without copying it."""
    backend = keras.backend.backend()
    leaves = keras.tree.flatten(tree)
    if backend == "jax":
        import jax

        jax.block_until_ready(leaves)
    elif backend == "torch":
        import torch

        if torch.cuda.is_available():
            torch.cuda.synchronize()
    elif backend == "tensorflow":
        import tensorflow as tf

        for leaf in leaves:
            if tf.is_tensor(leaf):
                # A scalar that depends on the whole tensor: only 4 bytes travel.
                tf.reduce_sum(tf.cast(tf.reshape(leaf, [-1])[:1], "float32")).numpy()
    # numpy and Python results (Keras's logs) are already on the host.


def device_name():
    """The accelerator (or CPU) new tensors go to, for a table's header."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.devices()[0].device_kind
    if backend == "torch":
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        return gpus[0].name if gpus else "cpu"
    return backend
