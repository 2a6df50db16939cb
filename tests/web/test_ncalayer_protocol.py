"""The NCALayer client's reading of NCALayer's answers (web/ncalayer.js, run in Node): results, the cancelled key
dialog, errors of both answer shapes, greetings and heartbeats."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "backend" / "web" / "static" / "web" / "ncalayer.js"

ANSWERS = {
    '{"result":{"version":"1.4"}}': {"kind": "ignore"},
    "--heartbeat--": {"kind": "ignore"},
    '{"status":true,"body":{"result":["MIIB\\nAA=="]}}': {"kind": "result", "cms": ["MIIBAA=="]},
    '{"status":true,"body":{"result":"MIIB"}}': {"kind": "result", "cms": ["MIIB"]},
    '{"status":true,"body":{}}': {"kind": "cancelled"},
    '{"status":false,"code":"SIGNING_FAILURE","message":"bad PIN"}': {
        "kind": "failed",
        "code": "SIGNING_FAILURE",
        "message": "bad PIN",
    },
    '{"success":false,"errorCode":"MODULE_NOT_FOUND"}': {
        "kind": "failed",
        "code": "MODULE_NOT_FOUND",
        "message": "MODULE_NOT_FOUND",
    },
    "not json": {"kind": "failed", "code": "PROTOCOL", "message": "NCALayer sent something that is not JSON"},
}


def test_the_client_reads_every_kind_of_answer() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = f"""
        const client = await import({json.dumps(CLIENT.as_uri())});
        const answers = {json.dumps(list(ANSWERS))};
        console.log(JSON.stringify(answers.map((a) => client.parseSignResponse(a))));
        console.log(JSON.stringify(client.signRequest(["QQ==", "Qg=="], {{ locale: "kk", iin: "800101300111" }})));
    """
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert json.loads(out[0]) == list(ANSWERS.values())
    request = json.loads(out[1])
    assert request["module"] == "kz.gov.pki.knca.basics"
    assert request["method"] == "sign"
    assert request["args"]["format"] == "cms"
    assert request["args"]["data"] == ["QQ==", "Qg=="]
    assert request["args"]["signingParams"] == {
        "decode": True,
        "encapsulate": False,
        "digested": False,
        "tsaProfile": None,
    }
    assert request["args"]["signerParams"]["iin"] == "800101300111"
    assert request["args"]["locale"] == "kk"
