"""Run by tests/test_export_trainers.py in a Python that has LLaMA-Factory: every ShareGPT
row of the file goes through LLaMA-Factory's own `sharegpt` converter (a broken row comes
out empty) and each function_call turn through the qwen template's FunctionFormatter."""

import json
import sys
from pathlib import Path

from llamafactory.data.converter import SharegptDatasetConverter
from llamafactory.data.parser import DatasetAttr
from llamafactory.data.template import TEMPLATES
from llamafactory.hparams import DataArguments

rows = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
attr = DatasetAttr("file", "apigen_mt", formatting="sharegpt", system="system", tools="tools")
convert = SharegptDatasetConverter(attr, DataArguments())
template = TEMPLATES["qwen"]
broken, calls = [], 0
for row in rows:
    out = convert(row)
    if not out["_prompt"] or not out["_response"]:
        broken.append(row["id"])
        continue
    for message in out["_prompt"] + out["_response"]:
        if message["role"] == "function":
            rendered = "".join(
                template.format_function.apply(
                    content=message["content"],
                    thought_words=template.thought_words,
                    tool_call_words=template.tool_call_words,
                )
            )
            calls += rendered.count("<tool_call>")
print(json.dumps({"rows": len(rows), "broken": broken, "rendered_calls": calls}))
