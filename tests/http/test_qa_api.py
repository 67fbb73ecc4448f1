"""Quality reviews end to end on a real dev server: an inquiry closes, the sampling sends it to
review, and the agent API (with roles) and the CLI score, dispute and settle it. Bad input is a
clear error and records nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from careflow.engine.ruleset import load_ruleset
from careflow.http.app import create_app
from careflow.settings import ApiTokenSettings, Settings, TemporalSettings
from careflow.temporal.intake import intake
from careflow.temporal.worker import build_worker
from tests.audit.cli import careflow
from tests.harness import CUSTOMERS, dev_server, example, keep_history, quick_follow_up_pack
from tests.workflows.test_qa import REVIEW_HISTORIES
from workflows.inquiry import InquiryWorkflow
from workflows.messages import ReplyRequest, ResolveRequest

TOKENS = "tok-ana=agent:Ana,tok-ben=agent:Ben,tok-rita=reviewer:Rita,tok-sam=supervisor:Sam"
ANA, BEN = {"Authorization": "Bearer tok-ana"}, {"Authorization": "Bearer tok-ben"}
RITA, SAM = {"Authorization": "Bearer tok-rita"}, {"Authorization": "Bearer tok-sam"}
QA = """
qa:
  rubric:
    version: v1
    criteria:
      empathy: {description: Acknowledges how the customer feels}
      accuracy: {description: The answer is right}
  sampling: {share: 100%}
teams:
  care: {agents: [Ana]}
"""
GOOD = {"empathy": 4, "accuracy": 5}


def test_reviews_through_the_api_with_roles_and_the_cli(tmp_path: Path) -> None:
    pack = quick_follow_up_pack(tmp_path)
    pack.write_text(pack.read_text() + QA)
    ruleset = load_ruleset(pack)
    settings = Settings(
        rules=str(pack),
        home=tmp_path,
        temporal=TemporalSettings(task_queue="qa-api-test"),
        api=ApiTokenSettings(tokens=TOKENS),
    )

    async def scenario() -> None:
        async with await dev_server() as env, build_worker(env.client, settings):
            client = env.client
            address = client.service_client.config.target_host

            async def factory() -> Any:
                return client

            app = create_app(settings, factory, ruleset)
            transport = httpx.ASGITransport(app=app)
            http = httpx.AsyncClient(transport=transport, base_url="http://api")

            async def closed(name: str) -> str:
                now = await env.get_current_time()
                wid = (
                    await intake(
                        client, "qa-api-test", example(name, now), ruleset, customers=CUSTOMERS
                    )
                ).workflow_id
                assert wid
                handle = client.get_workflow_handle_for(InquiryWorkflow.run, wid)
                await handle.execute_update(
                    InquiryWorkflow.reply, ReplyRequest(agent="Ana", text="Sorry! Fixing it.")
                )
                await handle.execute_update(
                    InquiryWorkflow.resolve, ResolveRequest(agent="Ana", code="fixed")
                )
                result = await handle.result()  # follow-up 1 s, then 1 s of silence
                assert result.status.review_id is not None
                return wid

            wid = await closed("warranty")
            for _ in range(100):  # visibility trails the start
                queue = await http.get("/qa/queue", headers=RITA)
                assert queue.status_code == 200, queue.text
                if any(row["inquiry_id"] == wid for row in queue.json()):
                    break
                await asyncio.sleep(0.1)
            [row] = [row for row in queue.json() if row["inquiry_id"] == wid]
            assert (row["agent"], row["status"]) == ("Ana", "waiting")
            assert (await http.get("/qa/queue", headers=ANA)).status_code == 403

            # Wrong role, unknown criterion, off the scale: refused, nothing recorded.
            path = f"/qa/{wid}/review"
            refused = await http.post(path, headers=ANA, json={"scores": GOOD})
            assert refused.status_code == 403
            assert (
                refused.json()["error"]
                == "the agent role may not score a review (reviewers and supervisors)"
            )
            unknown = await http.post(path, headers=RITA, json={"scores": {**GOOD, "tone": 3}})
            assert unknown.status_code == 409
            assert (
                unknown.json()["error"]
                == "unknown criterion 'tone': the rubric has empathy, accuracy"
            )
            off = await http.post(path, headers=RITA, json={"scores": {**GOOD, "empathy": 9}})
            assert off.status_code == 409 and "outside the scale" in off.json()["error"]
            bad = await http.post(path, headers=RITA, json={"scores": {"empathy": "four"}})
            assert bad.status_code == 422
            assert (await http.get(f"/qa/{wid}", headers=BEN)).status_code == 403  # not his
            untouched = (await http.get(f"/qa/{wid}", headers=ANA)).json()
            assert (untouched["status"], untouched["scores"], untouched["events"]) == (
                "waiting",
                {},
                [],
            )

            scored = await http.post(path, headers=RITA, json={"scores": GOOD, "note": "Kind."})
            assert scored.status_code == 200, scored.text
            assert (scored.json()["status"], scored.json()["reviewer"]) == ("scored", "Rita")
            dispute = f"/qa/{wid}/dispute"
            not_hers = await http.post(dispute, headers=BEN, json={"reason": "unfair"})
            assert not_hers.status_code == 409
            assert (
                not_hers.json()["error"] == "only the reviewed agent (Ana) may dispute this review"
            )
            assert (await http.post(dispute, headers=RITA, json={"reason": "x"})).status_code == 403
            disputed = await http.post(dispute, headers=ANA, json={"reason": "It was right."})
            assert disputed.json()["status"] == "disputed"
            settle = f"/qa/{wid}/settle"
            assert (await http.post(settle, headers=ANA, json={"note": "mine"})).status_code == 403
            settled = await http.post(
                settle, headers=SAM, json={"note": "Accuracy was right.", "scores": {"accuracy": 5}}
            )
            assert settled.json()["status"] == "settled"
            events = [(e["event"], e["by"]) for e in settled.json()["events"]]
            assert events == [("scored", "Rita"), ("disputed", "Ana"), ("settled", "Sam")]
            review_handle = client.get_workflow_handle(settled.json()["id"])
            await review_handle.result()
            await keep_history(review_handle, "settled-on-a-server", REVIEW_HISTORIES)

            # The CLI: the same review, and a second one scored from the terminal.
            code, out, _ = await careflow(address, tmp_path, "qa", "show", wid, "--json")
            assert code == 0 and json.loads(out)["status"] == "settled"
            second = await closed("billing")
            for _ in range(100):
                code, out, _ = await careflow(address, tmp_path, "qa", "queue", "--json")
                if any(r["inquiry_id"] == second for r in json.loads(out)):
                    break
                await asyncio.sleep(0.2)
            assert any(r["inquiry_id"] == second for r in json.loads(out))
            review = ("qa", "review", second, "--agent", "Rita")
            code, _, err = await careflow(address, tmp_path, *review, "--score", "empathy=4")
            assert code == 1 and err == "error: score every criterion: accuracy missing\n"
            code, out, _ = await careflow(
                address, tmp_path, *review, "--score", "empathy=4", "--score", "accuracy=3",
                "--note", "Accurate, a little curt.",
            )  # fmt: skip
            assert code == 0 and "scored" in out and "Accurate, a little curt." in out
            code, _, err = await careflow(address, tmp_path, "qa", "show", "inquiry-x-nope")
            assert code == 1 and "no inquiry with id inquiry-x-nope" in err

            # The follow-up asked for a rating: the report counts it as asked; and it averages
            # the reviews' scores (the settled one with the supervisor's accuracy).
            for _ in range(50):
                code, out, _ = await careflow(
                    address, tmp_path, "report", "--since", "1h", "--by", "agent", "--json"
                )
                report = json.loads(out)
                if report["by"]["agent"]["Ana"]["qa_reviews"] == 2:
                    break
                await asyncio.sleep(0.2)
            assert code == 0 and report["total"]["csat_asked"] == 2
            assert report["by"]["agent"]["Ana"]["qa_average"] == {"accuracy": 4.0, "empathy": 4.0}
            # The console's SLA page, for supervisors: by agent and team, with the QA averages.
            page = await http.get("/supervisor/report?days=1", headers=SAM)
            assert page.status_code == 200, page.text
            assert "By agent" in page.text and "By team" in page.text and "care" in page.text
            assert "accuracy 4.0 · empathy 4.0 (2 reviews)" in page.text
            await http.aclose()

    asyncio.run(scenario())
