"""The official openai-python SDK, unchanged, calling tools and asking for JSON through the gateway on a tool-capable
model: prints one JSON object of what it saw.

Usage: python3 openai_python_tools_check.py BASE_URL API_KEY
"""
import json
import sys

import openai

base_url, key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0)
out = {"sdk": openai.__version__}

tools = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "The current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                       "required": ["city"], "additionalProperties": False}}},
    {"type": "function", "function": {
        "name": "get_time", "description": "The current time in a time zone.",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}}},
]
question = [{"role": "user", "content": "What is the weather like in Paris right now?"}]


def call_of(message):
    return [{"id": c.id, "type": c.type, "name": c.function.name, "arguments": c.function.arguments}
            for c in (message.tool_calls or [])]


whole = client.chat.completions.create(model="any", messages=question, tools=tools, tool_choice="required",
                                       max_tokens=64, temperature=0)
out["required"] = {"finish_reason": whole.choices[0].finish_reason, "content": whole.choices[0].message.content,
               "calls": call_of(whole.choices[0].message)}

calls = {}
finish = None
content = []
for chunk in client.chat.completions.create(model="any", messages=question, tools=tools, max_tokens=64, temperature=0,
                                            tool_choice={"type": "function", "function": {"name": "get_weather"}},
                                            stream=True):
    if not chunk.choices:
        continue
    delta = chunk.choices[0].delta
    content.append(delta.content or "")
    for c in delta.tool_calls or []:
        entry = calls.setdefault(c.index, {"id": None, "name": "", "arguments": ""})
        entry["id"] = c.id or entry["id"]
        entry["name"] += (c.function.name or "") if c.function else ""
        entry["arguments"] += (c.function.arguments or "") if c.function else ""
    finish = chunk.choices[0].finish_reason or finish
out["streamed"] = {"finish_reason": finish, "content": "".join(content), "calls": [calls[i] for i in sorted(calls)]}

# the call and its result go back; with tool_choice none the model answers in text
first = out["required"]["calls"][0]
history = question + [
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": first["id"], "type": "function", "function": {"name": first["name"], "arguments": first["arguments"]}}]},
    {"role": "tool", "tool_call_id": first["id"], "content": json.dumps({"temperature_c": 18, "sky": "sunny"})}]
answer = client.chat.completions.create(model="any", messages=history, tools=tools, tool_choice="none", max_tokens=48,
                                        temperature=0)
out["answer"] = {"finish_reason": answer.choices[0].finish_reason, "content": answer.choices[0].message.content}

schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 40},
                                           "country": {"type": "string", "maxLength": 40},
                                           "population_millions": {"type": "number"}},
          "required": ["city", "country", "population_millions"], "additionalProperties": False}
structured = client.chat.completions.create(
    model="any", messages=[{"role": "user", "content": "Give facts about the capital of Japan as JSON."}],
    max_tokens=64, temperature=0,
    response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema, "strict": True}})
out["json"] = {"finish_reason": structured.choices[0].finish_reason, "content": structured.choices[0].message.content}

try:
    client.chat.completions.create(
        model="any", messages=question, max_tokens=8,
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {
            "type": "object", "properties": {"email": {"type": "string", "format": "email"}}}}})
    out["schema_error"] = None
except openai.BadRequestError as e:
    out["schema_error"] = {"status": e.status_code, "message": str(e)}
print(json.dumps(out))
