"""The official openai-python SDK, unchanged, against the gateway: prints one JSON object of what it saw.

Usage: python3 openai_python_check.py BASE_URL API_KEY CIRCUIT
"""
import json
import sys

import openai

base_url, key, circuit = sys.argv[1], sys.argv[2], sys.argv[3]
client = openai.OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0)
out = {"sdk": openai.__version__}

question = [{"role": "user", "content": "What is the capital of France?"}]
whole = client.chat.completions.create(model="any", messages=question, max_tokens=12, temperature=0)
out["whole"] = {"text": whole.choices[0].message.content, "finish_reason": whole.choices[0].finish_reason,
                "completion_tokens": whole.usage.completion_tokens}

pieces = []
finish = None
for chunk in client.chat.completions.create(model="any", messages=question, max_tokens=12, temperature=0, stream=True):
    if chunk.choices:
        pieces.append(chunk.choices[0].delta.content or "")
        finish = chunk.choices[0].finish_reason or finish
out["streamed"] = {"text": "".join(pieces), "finish_reason": finish}

french = [{"role": "user", "content": "Quelle est la capitale de la France ?"}]
steered = client.chat.completions.create(model="any", messages=french, max_tokens=24, temperature=0,
                                         extra_body={"steering": [{"circuit": circuit, "multiplier": 0.0}]})
unsteered = client.chat.completions.create(model="any", messages=french, max_tokens=24, temperature=0)
out["steered"] = steered.choices[0].message.content
out["unsteered"] = unsteered.choices[0].message.content

try:
    client.chat.completions.create(model="any", messages=question, max_tokens=5000)
    out["error"] = None
except openai.BadRequestError as e:
    out["error"] = {"status": e.status_code, "message": str(e), "code": e.code, "param": e.param}

try:
    openai.OpenAI(base_url=base_url + "/v1", api_key="not-a-key", max_retries=0).models.list()
    out["auth_error"] = None
except openai.AuthenticationError as e:
    out["auth_error"] = {"status": e.status_code, "message": str(e)}

out["models"] = [m.id for m in client.models.list().data]
print(json.dumps(out))
