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


BATCH = CLIENT.with_name("ncalayer_batch.js")


def test_the_batch_signs_the_rest_past_failures_and_posts_nothing_when_ncalayer_says_no() -> None:
    """signBatch (web/ncalayer_batch.js): a failed prepare and a refused post are named and the others go on; each
    CMS goes with its own document's token; a cancelled key dialog or a wrong count of signatures posts nothing."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = f"""
        const batch = await import({json.dumps(BATCH.as_uri())});
        const {{ NCALayerError }} = await import({json.dumps(CLIENT.as_uri())});
        const items = ["a", "b", "c", "d"].map((label) => ({{ label }}));
        const posted = [];
        const run = (sign) => batch.signBatch({{
          items,
          prepare: async (item) => {{
            if (item.label === "b") throw new Error("damaged");
            return {{ content: "content-" + item.label, token: "token-" + item.label }};
          }},
          sign,
          post: async (item, body) => {{
            if (item.label === "c") throw new Error("refused");
            posted.push([item.label, body.cms, body.token]);
          }},
        }});
        const result = await run(async (contents) => contents.map((content) => "cms(" + content + ")"));
        const outcomes = [];
        for (const sign of [
          async () => {{ throw new NCALayerError("cancelled"); }},
          async () => ["only one"],
        ]) {{
          try {{ await run(sign); outcomes.push("resolved"); }} catch (error) {{ outcomes.push(error.kind + ":" + error.code); }}
        }}
        console.log(JSON.stringify({{
          signed: result.signed.map((item) => item.label),
          failed: result.failed.map(({{ item, reason }}) => item.label + ": " + reason),
          posted,
          outcomes,
        }}));
    """
    out = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    assert result["signed"] == ["a", "d"]
    assert result["failed"] == ["b: damaged", "c: refused"]
    assert result["posted"] == [["a", "cms(content-a)", "token-a"], ["d", "cms(content-d)", "token-d"]]
    # Neither the cancelled dialog nor the wrong count posted anything more.
    assert result["outcomes"] == ["cancelled:", "failed:COUNT"]
