"""``ConflictPreview.spans`` and ``ResolutionPreview.regions``: who changed what, and where."""

from tests.factories import Api, sha, upsert
from tests.graphql.conftest import Gq

PATH = "notes/spans.md"
BASE = "# Plan\n\nfirst one\n\nsecond one\n\nthird one\n"
LOCAL = "# Plan\n\nfirst LOCAL\n\nsecond LOCAL\n\nthird one\n"
RAVEN = "# Plan\n\nfirst RAVEN\n\nsecond one\n\nthird RAVEN\n"

SPANS = """
query($id: ID!) {
  conflict(id: $id) {
    preview {
      spans {
        origin baseLine baseCount localLine localCount remoteLine remoteCount
        mergedCount region
      }
    }
    applyDecisions(decisions: []) { unresolved regions { index line count } }
  }
}
"""


def _conflict(api: Api) -> str:
    sid = api.source()["id"]
    api.push(sid, upsert(PATH, BASE))
    assert api.push(sid, upsert(PATH, LOCAL, base=sha(BASE)))["results"][0]["status"] == "applied"
    edit = api.update(sid, PATH, RAVEN, base=sha(BASE))
    assert edit["status"] == "conflict", edit
    return str(edit["conflictId"])


async def test_spans_say_which_side_an_auto_merged_change_came_from(api: Api, gq: Gq) -> None:
    conflict = (await gq.run(SPANS, id=_conflict(api)))["conflict"]
    spans = [
        (s["origin"], s["baseLine"], s["localLine"], s["remoteLine"], s["region"])
        for s in conflict["preview"]["spans"]
    ]
    assert spans == [
        ("UNCHANGED", 1, 1, 1, None),
        ("CONFLICT", 3, 3, 3, 1),
        ("UNCHANGED", 4, 4, 4, None),
        ("LOCAL", 5, 5, 5, None),
        ("UNCHANGED", 6, 6, 6, None),
        ("RAVEN", 7, 7, 7, None),
    ]
    # The undecided region is drawn in diff3 markers from line 3: seven lines.
    assert conflict["applyDecisions"]["regions"] == [{"index": 1, "line": 3, "count": 7}]
