from __future__ import annotations

import pytest
from kgcl_schema.datamodel.kgcl import EdgeCreation, EdgeDeletion, NodeRename

from pipeline.errors import ChangeRequestError
from pipeline.kgcl import parse_change_request, parse_command


def test_parses_a_request_of_several_commands_with_comments() -> None:
    parsed = parse_change_request("""
# curator fixes
rename ent:abc from 'NASA' to 'National Aeronautics and Space Administration'
create edge ent:a sp:operatedBy ent:b

delete edge ent:a sp:operatedBy ent:c
""")
    assert [type(p.change) for p in parsed] == [NodeRename, EdgeCreation, EdgeDeletion]
    assert [p.line for p in parsed] == [3, 4, 6]
    assert parsed[0].change.new_value == "National Aeronautics and Space Administration"


def test_full_iris_survive_parsing() -> None:
    pc = parse_command("create edge <https://x.org/a> <https://x.org/p#q> <https://x.org/b>")
    ch = pc.change
    assert (ch.subject, ch.predicate, ch.object) == ("https://x.org/a", "https://x.org/p#q",
                                                     "https://x.org/b")


@pytest.mark.parametrize("bad", ["garbage here", "rename", "create edge a", "delete 'x",
                                 "}) DETACH DELETE n //"])
def test_invalid_commands_reject_the_whole_request_with_the_line(bad: str) -> None:
    with pytest.raises(ChangeRequestError, match="line 2: cannot parse"):
        parse_change_request(f"rename ent:a from 'x' to 'y'\n{bad}")


def test_empty_request_is_an_error() -> None:
    with pytest.raises(ChangeRequestError, match="no KGCL command"):
        parse_change_request("# only a comment\n\n")
