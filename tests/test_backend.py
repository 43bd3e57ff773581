import os
import subprocess
import sys
import json


def _run(code, env_extra=None, home=None):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if home is not None:
        env["KERAS_HOME"] = str(home)
    env.update(env_extra or {})
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


def test_import_skqrnn_does_not_import_keras(tmp_path):
    code = "import sys, skqrnn, skqrnn.metrics; print('keras' in sys.modules)"
    assert _run(code, home=tmp_path) == "False"


def test_default_backend_is_used_when_user_chose_none(tmp_path):
    code = "import skqrnn, keras; print(keras.backend.backend())"
    assert _run(code, home=tmp_path) == "jax"


def test_user_environment_variable_wins(tmp_path):
    code = "import skqrnn, os; print(os.environ['KERAS_BACKEND'])"
    assert _run(code, {"KERAS_BACKEND": "torch"}, home=tmp_path) == "torch"


def test_user_keras_json_wins(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "numpy"}))
    code = "import skqrnn, os; print(os.environ.get('KERAS_BACKEND'))"
    assert _run(code, home=tmp_path) == "None"


def test_keras_json_naming_an_uninstalled_backend_falls_back_to_default(tmp_path):
    # Keras itself writes "backend": "tensorflow" into a new keras.json, even when it
    # runs another backend; that must not break skqrnn where TensorFlow is absent.
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "no_such_backend"}))
    code = "import skqrnn, keras; print(keras.backend.backend())"
    assert _run(code, home=tmp_path) == "jax"
