"""`jobdeck template ...` happy paths: the whole template lifecycle."""

from __future__ import annotations

import json

from .helpers import Run


def test_create_then_list_json_shows_it(ok: Run) -> None:
    """Done when: template create hello ... then template list --json shows it."""
    created = ok("template", "create", "hello", "--type", "shell", "--config", "command=echo hello")
    assert "created template hello" in created.out
    listed = json.loads(ok("template", "list", "--json").out)
    assert [t["name"] for t in listed] == ["hello"]
    assert listed[0]["job_type"] == "shell"
    assert listed[0]["config"]["command"] == ["echo", "hello"]
    assert listed[0]["config"]["shell"] is False
    assert listed[0]["created_at"].endswith(("Z", "+00:00"))


def test_create_with_everything_and_show(ok: Run) -> None:
    ok(
        "template", "create", "backup", "--type", "shell",
        "--config", "command=tar czf /tmp/b.tgz /etc",
        "--config", "env.LANG=C", "--config", "cwd=/tmp",
        "--param", "target:string=/srv", "--param", "level:int=3",
        "--param", "mode:choice(full|diff)=diff", "--param", "dry:bool", "--param", "token:secret",
        "--description", "Nightly backup", "--timeout", "10m", "--deadline", "1h",
        "--retries", "2", "--retry-backoff", "fixed", "--retry-delay", "30s",
        "--overlap", "queue", "--tag", "ops", "--tag", "nightly",
    )  # fmt: skip
    shown = json.loads(ok("template", "show", "backup", "--json").out)
    assert shown["config"] == {
        "command": ["tar", "czf", "/tmp/b.tgz", "/etc"],
        "shell": False,
        "cwd": "/tmp",
        "env": {"LANG": "C"},
    }
    params = {p["name"]: p for p in shown["parameters"]}
    assert params["level"]["default"] == 3
    assert params["mode"]["choices"] == ["full", "diff"]
    assert params["token"]["required"] is True
    assert shown["timeout_seconds"] == 600
    assert shown["deadline_seconds"] == 3600
    assert (shown["retries"], shown["retry_backoff"], shown["retry_delay_seconds"]) == (
        2,
        "fixed",
        30,
    )
    assert shown["overlap"] == "queue"
    assert shown["tags"] == ["ops", "nightly"]
    human = ok("template", "show", "backup").out
    assert "timeout:" in human and "10m" in human
    assert "retries:     2 (fixed, first after 30s)" in human
    assert 'command: ["tar", "czf", "/tmp/b.tgz", "/etc"]' in human
    assert "mode: choice(full|diff) = diff" in human
    assert "token: secret (required)" in human


def test_config_values_are_typed_by_the_schema(ok: Run) -> None:
    ok(
        "template", "create", "ping", "--type", "http", "--config", "url=https://example.org/health",
        "--config", "expected_status=200", "--config", "expected_status=204",
        "--config", "timeout_seconds=2.5", "--config", "verify_tls=false",
        "--config", "headers={\"X-Token\": \"abc\"}",
    )  # fmt: skip
    config = json.loads(ok("template", "show", "ping", "--json").out)["config"]
    assert config["expected_status"] == [200, 204]
    assert config["timeout_seconds"] == 2.5
    assert config["verify_tls"] is False
    assert config["headers"] == {"X-Token": "abc"}
    # A string key keeps JSON-looking text as a string; a list given once stays whole.
    ok(
        "template",
        "create",
        "t",
        "--type",
        "shell",
        "--config",
        "command=true",
        "--config",
        "cwd=123",
    )
    config = json.loads(ok("template", "show", "t", "--json").out)["config"]
    assert config["command"] == ["true"]
    assert config["cwd"] == "123"
    ok("template", "create", "j", "--type", "shell", "--config", 'command=["ls", "-l a"]')
    assert json.loads(ok("template", "show", "j", "--json").out)["config"]["command"] == [
        "ls",
        "-l a",
    ]


def test_shell_string_is_split_never_given_to_a_shell(ok: Run) -> None:
    ok("template", "create", "q", "--type", "shell", "--config", "command=echo 'a b' $HOME; rm")
    config = json.loads(ok("template", "show", "q", "--json").out)["config"]
    assert config["command"] == ["echo", "a b", "$HOME;", "rm"]
    assert config["shell"] is False


def test_update_makes_a_new_revision_and_merges_config(ok: Run) -> None:
    ok("template", "create", "hello", "--type", "shell", "--config", "command=echo hello",
       "--config", "env.A=1", "--timeout", "5m", "--description", "greets")  # fmt: skip
    result = ok("template", "update", "hello", "--config", "env.B=2", "--retries", "3")
    assert "now revision 2" in result.out
    shown = json.loads(ok("template", "show", "hello", "--json").out)
    assert shown["revision"] == 2
    assert shown["config"]["command"] == ["echo", "hello"]
    assert shown["config"]["env"] == {"A": "1", "B": "2"}
    assert shown["retries"] == 3
    ok("template", "update", "hello", "--no-timeout", "--no-description", "--unset-config", "env.A",
       "--param", "who:string=you", "--name", "greeter")  # fmt: skip
    shown = json.loads(ok("template", "show", "greeter", "--json").out)
    assert shown["timeout_seconds"] is None
    assert shown["description"] is None
    assert shown["config"]["env"] == {"B": "2"}
    assert [p["name"] for p in shown["parameters"]] == ["who"]
    revisions = json.loads(ok("template", "revisions", "greeter", "--json").out)
    assert [r["revision"] for r in revisions] == [3, 2, 1]
    human = ok("template", "revisions", "greeter").out.splitlines()
    assert human[0].split() == ["REV", "SAVED", "BY", "CHANGED"]
    assert human[-1].endswith("created")
    assert "retries" in human[2] and "config" in human[2]


def test_copy_and_delete_with_and_without_force(ok: Run, jd: Run) -> None:
    ok("template", "create", "hello", "--type", "shell", "--config", "command=echo hello")
    copied = ok("template", "copy", "hello", "hello2")
    assert "copied template hello to hello2" in copied.out
    assert json.loads(ok("template", "show", "hello2", "--json").out)["config"]["command"] == [
        "echo",
        "hello",
    ]
    ok("schedule", "create", "b-daily", "--template", "hello", "--daily", "09:00")
    ok("schedule", "create", "a-hourly", "--template", "hello", "--hourly", ":05")
    refused = jd("template", "delete", "hello")
    assert refused.code == 2
    assert "a-hourly, b-daily" in refused.err and "--force" in refused.err
    forced = ok("template", "delete", "hello", "--force")
    assert forced.out.splitlines() == [
        "deleted template hello",
        "removed 2 schedules: a-hourly, b-daily",
    ]
    assert json.loads(ok("schedule", "list", "--json").out) == []
    assert ok("template", "delete", "hello2").out == "deleted template hello2\n"
    assert ok("template", "list").out == "no templates\n"


def test_list_filters_and_human_table(ok: Run) -> None:
    ok("template", "create", "alpha", "--type", "shell", "--config", "command=true", "--tag", "x")
    ok("template", "create", "beta", "--type", "python", "--config", "callable=m:f")
    out = ok("template", "list").out.splitlines()
    assert out[0].split() == ["ID", "NAME", "TYPE", "REV", "SCHEDULES", "LAST", "RUN", "TAGS",
                              "DESCRIPTION"]  # fmt: skip
    assert out[1].split()[:3] == ["1", "alpha", "shell"]
    # columns line up: every row starts its NAME column where the header does
    assert {
        line.index(name) for line, name in zip(out, ["NAME", "alpha", "beta"], strict=True)
    } == {out[0].index("NAME")}
    names = [
        t["name"] for t in json.loads(ok("template", "list", "--type", "python", "--json").out)
    ]
    assert names == ["beta"]
    names = [t["name"] for t in json.loads(ok("template", "list", "--tag", "x", "--json").out)]
    assert names == ["alpha"]
    names = [t["name"] for t in json.loads(ok("template", "list", "--search", "ET", "--json").out)]
    assert names == ["beta"]


def test_update_params_merge_by_name_and_keep_secrets(ok: Run) -> None:
    ok("template", "create", "p", "--type", "shell", "--config", "command=env",
       "--param", "a:string=x", "--param", "b:int=1", "--param", "tok:secret=s3cret")  # fmt: skip
    ok("template", "update", "p", "--param", "b:int=5", "--param", "c:bool=true")
    params = json.loads(ok("template", "show", "p", "--json").out)["parameters"]
    assert [(p["name"], p["default"]) for p in params] == [
        ("a", "x"),
        ("b", 5),
        ("tok", "********"),
        ("c", True),
    ]
    ok("template", "update", "p", "--drop-param", "a")
    params = json.loads(ok("template", "show", "p", "--json").out)["parameters"]
    assert [p["name"] for p in params] == ["b", "tok", "c"]
    assert "s3cret" not in ok("template", "show", "p").out
    ok("template", "update", "p", "--no-params")
    assert json.loads(ok("template", "show", "p", "--json").out)["parameters"] == []


def test_retention_options_on_create_and_update(ok: Run, jd: Run) -> None:
    ok(
        "template", "create", "kept", "--type", "shell", "--config", "command=true",
        "--keep-success", "20", "--max-age-days", "90",
    )  # fmt: skip
    shown = json.loads(ok("template", "show", "kept", "--json").out)
    assert shown["retention"] == {"keep_success": 20, "max_age_days": 90}
    ok("template", "update", "kept", "--keep-failure", "5", "--keep-success", "3")
    shown = json.loads(ok("template", "show", "kept", "--json").out)
    assert shown["retention"] == {"keep_success": 3, "max_age_days": 90, "keep_failure": 5}
    assert "keep_success 3" in ok("template", "show", "kept").out
    refused = jd("template", "update", "kept", "--keep-failure", "-1")
    assert refused.code == 2
    assert "retention.keep_failure" in refused.err


def test_a_shell_script_string_is_kept_whole_and_runs_as_one_script(ok: Run, jd: Run) -> None:
    """`--config shell=true` with a string command: `;`, `>&2` and `$(...)` stay as typed."""
    script = "echo about to fail; echo oops >&2; for i in $(seq 1 2); do echo $i; done; exit 3"
    ok("template", "create", "failer", "--type", "shell", "--config", "shell=true",
       "--config", f"command={script}")  # fmt: skip
    shown = json.loads(ok("template", "show", "failer", "--json").out)
    assert shown["config"]["command"] == [script]
    assert shown["config"]["shell"] is True
    # ...in either order of the options, and on update
    ok("template", "create", "other", "--type", "shell", "--config", f"command={script}",
       "--config", "shell=true")  # fmt: skip
    assert json.loads(ok("template", "show", "other", "--json").out)["config"]["command"] == [
        script
    ]
    ran = jd("template", "run", "failer", "--wait")
    assert ran.code != 0  # the script's exit 3 fails the run; it does not "complete"
    assert "failed" in ran.out + ran.err


def test_a_run_that_ends_is_reported_without_a_stray_dash(ok: Run, jd: Run) -> None:
    ok("template", "create", "hello", "--type", "shell", "--config", "command=true")
    ran = jd("template", "run", "hello", "--wait")
    assert ran.code == 0
    assert ran.err.strip().splitlines()[-1].endswith("completed")  # not "completed-"
