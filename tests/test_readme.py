"""The README's example runs as printed."""

import re
from pathlib import Path


def test_readme_example_runs():
    text = (Path(__file__).parents[1] / "README.md").read_text()
    code = re.findall(r"```python\n(.*?)```", text, re.S)
    assert code, "README has no python example"
    namespace = {}
    exec(compile(code[0], "README.md", "exec"), namespace)
    assert namespace["cb_data"]["b_v"][0].shape == (1500, 100)
    assert len(namespace["cb_data"]["a_spikes"][0]) == 64
