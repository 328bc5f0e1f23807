"""The official openai-python SDK, unchanged, against the gateway: prints one JSON object of what it saw (chat whole and
streamed, steering through extra_body, errors, models, chat logprobs whole and streamed, a legacy completion with echo
and logprobs, whole and streamed).

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
    client.chat.completions.create(model="any", messages=question, max_tokens=100000)
    out["error"] = None
except openai.BadRequestError as e:
    out["error"] = {"status": e.status_code, "message": str(e), "code": e.code, "param": e.param}

try:
    openai.OpenAI(base_url=base_url + "/v1", api_key="not-a-key", max_retries=0).models.list()
    out["auth_error"] = None
except openai.AuthenticationError as e:
    out["auth_error"] = {"status": e.status_code, "message": str(e)}

out["models"] = [m.id for m in client.models.list().data]
out["model"] = client.models.retrieve(out["models"][0]).id


def entries(content):
    return [{"token": c.token, "logprob": c.logprob, "bytes": c.bytes,
             "top": [{"token": t.token, "logprob": t.logprob} for t in c.top_logprobs]} for c in content]


scored = client.chat.completions.create(model="any", messages=question, max_tokens=6, temperature=0,
                                        logprobs=True, top_logprobs=3)
out["chat_logprobs"] = entries(scored.choices[0].logprobs.content)
streamed_logprobs = []
for chunk in client.chat.completions.create(model="any", messages=question, max_tokens=6, temperature=0,
                                            logprobs=True, top_logprobs=3, stream=True):
    if chunk.choices and chunk.choices[0].logprobs and chunk.choices[0].logprobs.content:
        streamed_logprobs += entries(chunk.choices[0].logprobs.content)
out["streamed_logprobs"] = streamed_logprobs

completion = client.completions.create(model="any", prompt="The capital of France is", max_tokens=4, temperature=0,
                                       echo=True, logprobs=2)
choice = completion.choices[0]
out["completion"] = {"text": choice.text, "finish_reason": choice.finish_reason, "tokens": choice.logprobs.tokens,
                     "token_logprobs": choice.logprobs.token_logprobs, "top_logprobs": choice.logprobs.top_logprobs,
                     "text_offset": choice.logprobs.text_offset, "prompt_tokens": completion.usage.prompt_tokens,
                     "completion_tokens": completion.usage.completion_tokens}
streamed_text = ""
for chunk in client.completions.create(model="any", prompt="The capital of France is", max_tokens=4, temperature=0,
                                       echo=True, stream=True):
    streamed_text += chunk.choices[0].text if chunk.choices else ""
out["streamed_completion"] = streamed_text

try:
    client.completions.create(model="any", prompt="def f(", suffix="return 1")
    out["suffix_error"] = None
except openai.BadRequestError as e:
    out["suffix_error"] = {"status": e.status_code, "message": str(e)}
print(json.dumps(out))
