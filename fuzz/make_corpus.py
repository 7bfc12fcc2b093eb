#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ (run it after changing the seeds or the vectors).

server_request: valid requests from tests/server (and a few refused ones), as raw HTTP/1.1.
json_layer:     the three plugins' outputs as docs/contract.md §3 shows them, plus refused outputs.
bme280:         every vector of tests/data/bme280_vectors.json in the bme280 target's layout
                (chip id, calibration blocks, data registers), the first few with status bytes.
Existing files are overwritten; files libFuzzer added are left alone.
"""
import gzip
import json
import pathlib

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent


def write(target, name, data):
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)


def http(method, target, body=b"", headers=(("Content-Type", "application/json"),)):
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode() + b"\r\n" + (body.encode() if isinstance(body, str) else body)


READING = ('{"device_id": "pi-kitchen", "reading_id": "0190F1C2-0000-7000-8000-00000000000A", '
           '"ts_utc": "2026-11-27T05:00:00.123456Z", "ts_local": "2026-11-27T06:00:00.123456+01:00", '
           '"payload": {"cpu_temp": {"c": 48.3}}}')
OLD_READING = ('{"device_id": "d", "ts_utc": "2026-11-27T05:00:00", "ts_local": "2026-11-27T05:00:00", '
               '"payload": {}}')
BULK = ('{"readings": [\n'
        ' {"device_id": "d", "ts_utc": "2026-11-27T05:00:00Z", "ts_local": "2026-11-27T05:00:00Z", "payload": {}},\n'
        ' {"device_id": "d", "ts_utc": "never", "ts_local": "2026-11-27T05:00:00Z", "payload": {}},\n'
        ' 7,\n'
        ' {"device_id": "d", "ts_utc": "2026-11-27T05:01:00Z", "ts_local": "2026-11-27T05:01:00Z", "payload": {}}]}')
AGENT_BULK = ('{"readings":[{"device_id":"pi-kitchen","reading_id":"0190f1c2-0000-7000-8000-00000000000b",'
              '"ts_utc":"2026-11-27T05:00:00.000000Z","ts_local":"2026-11-27T06:00:00.000000+01:00",'
              '"payload":{"bme280":{"temperature":{"c":21.53,"f":70.75},"pressure":{"hpa":1013.21},'
              '"humidity":{"rh":45.12}},"cpu_temp":{"c":48.3,"f":118.94},'
              '"disk":{"total_mb":29000,"used_mb":8000,"free_mb":21000}}}]}')
JSON_EDGES = ('{"device_id": "caf\\u00e9 \\ud83d\\ude00", "ts_utc": "2026-11-27 05:00:00.1234567+0530", '
              '"ts_local": "2026-11-27t05:00:00z", "payload": {"a": [1, -0.5e+3, true, false, null, '
              '"x\\u00e9\\n"], "b": {}}}')

server = {
    "create.http": http("POST", "/readings", READING),
    "create_without_reading_id.http": http("POST", "/readings", OLD_READING),
    "create_json_edges.http": http("POST", "/readings", JSON_EDGES),
    "bulk_mixed.http": http("POST", "/readings/bulk", BULK),
    "bulk_agent.http": http("POST", "/readings/bulk", AGENT_BULK,
                            (("Content-Type", "application/json"), ("Authorization", "Bearer sst_1_abc"))),
    "bulk_gzip.http": http("POST", "/readings/bulk", gzip.compress(AGENT_BULK.encode(), mtime=0),
                           (("Content-Type", "application/json; charset=utf-8"),
                            ("Content-Encoding", "gzip"))),
    "bulk_content_length.http": http("POST", "/readings/bulk", '{"readings": []}',
                                     (("Content-Length", "16"),)),
    "query_page.http": http("GET", "/readings?start_date=2026-11-27T00%3A00%3A00%2B01%3A00"
                            "&end_date=2026-11-28T00:00:00Z&limit=50&device_id=pi%20one"
                            "&after=1764201600000000.42"),
    "query_stream.http": http("GET", "/readings?start_date=2026-11-27T00:00:00Z"
                              "&end_date=2026-11-28T00:00:00Z#frag"),
    "latest.http": http("GET", "/readings/latest?device_id=pi-kitchen", headers=()),
    "head_health.http": http("HEAD", "/health", headers=()),
    "auth_check.http": http("GET", "/auth/check", headers=(("authorization", "Bearer sst_1_abc"),)),
    "devices_basic_auth.http": http("GET", "/devices", headers=(("Authorization", "Basic dXNlcjpwdw=="),)),
    "metrics.http": http("GET", "/metrics", headers=()),
    "delete_readings.http": http("DELETE", "/readings", headers=()),
    "text_plain.http": http("POST", "/readings", READING, (("Content-Type", "text/plain"),)),
    "deflate.http": http("POST", "/readings", READING, (("Content-Encoding", "br"),)),
    "nested_too_deeply.http": http("POST", "/readings", '{"payload": ' + "[" * 70 + "]" * 70 + "}"),
    "nul_escape.http": http("POST", "/readings", '{"device_id": "a\\u0000b", "payload": {"n": 1e99999}}'),
    "surrogates.http": http("POST", "/readings", '{"device_id": "\\ud800", "payload": {"s": "\\udc00"}}'),
    "invalid_utf8.http": http("POST", "/readings", b'{"device_id": "\xc3\x28"}'),
    "bad_query.http": http("GET", "/readings?start_date=yesterday&limit=0&after=1.-1&device_id=%01"),
    "bad_target.http": http("GET", "/readings%zz", headers=()),
    # Found by fuzzing: raw bytes of the target went into the error body, which was not UTF-8.
    "raw_bytes_in_target.http": b"DELETE \x92\x92/readings HTTP/1.1\r\n\r\n",
    "raw_bytes_in_path.http": http("GET", "/caf%C3%A9%FF", headers=()),
}
for name, data in server.items():
    write("server_request", name, data)

outputs = {
    "bme280.json": '{"temperature": {"c": 21.53, "f": 70.75}, "pressure": {"hpa": 1013.21}, '
                   '"humidity": {"rh": 45.12}}',
    "bmp280.json": '{"temperature": {"c": 25.08, "f": 77.14}, "pressure": {"hpa": 1006.53}}',
    "cpu_temp.json": '  {"c": 48.3, "f": 118.94}\n',
    "disk.json": '{"total_mb": 29000, "used_mb": 8000, "free_mb": 21000}',
    "nested.json": '{"a": {"b": [1, 2.5, {"c": null}]}, "t": true, "u": "\\u00b0C \\ud83c\\udf21"}',
    "utf8.json": '{"unit": "\u00b0C", "name": "caf\u00e9"}',
    "error.json": '{"error": "no device at 0x76 on /dev/i2c-1 (ENXIO: No such device)"}',
    "array.json": "[1]",
    "nan.json": '{"c": NaN}',
    "huge_number.json": '{"a": {"b": [1, -1e400]}}',
    "trailing.json": '{"c": 1} trailing',
    "invalid_utf8.json": b'{"c": "\xff"}',
    # Found by fuzzing: kept by the agent, refused by the server (the whole reading with them).
    "nul_escape.json": '{"a": "x\\u0000y"}',
    "nested_61.json": '{"a": ' + "[" * 60 + "]" * 60 + "}",
    "long_number.json": '{"a": 1.' + "0" * 600 + "}",
    "tiny_exponent.json": '{"a": 1e-1001}',
    # Where the agent and the server must agree: the depth boundary, surrogates, and text that
    # is more than one value once spliced into a reading's payload.
    "nested_60.json": '{"a": ' + "[" * 59 + "]" * 59 + "}",
    "unpaired_surrogate.json": '{"a": "\\ud800"}',
    "spliced_values.json": '{"a": 1}, "b": {"c": 2}',
    # Found by fuzzing: an error text cut mid-character made an error object that was not UTF-8.
    "cut_error_text.txt": b"no device at /dev/caf\xc3\xa9, cut \xe2\x82",
}
for name, data in outputs.items():
    write("json_layer", name, data)

vectors = json.loads((ROOT / "tests" / "data" / "bme280_vectors.json").read_text())
for i, v in enumerate(vectors):
    calib = v["calib_registers"]
    data = bytes([int(v["chip_id"], 16)])
    data += bytes.fromhex(calib["0x88..0xA1"]) + bytes.fromhex(calib["0xE1..0xE7"])
    data += bytes.fromhex(v["data_registers"]["0xF7..0xFE"])
    if i < 3:
        # Transfers: chip id, reset, status (busy once), status, calibration..., a failed read.
        data += bytes([0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x81])
    write("bme280", v["id"] + ".bin", data)
