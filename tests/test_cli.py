"""The `chibo` command as an administrator uses it (real subprocesses)."""

from __future__ import annotations

import csv
from pathlib import Path

from bot.rules.framework import shipped_framework
from tests.fakebotapi import FakeBotAPI
from tests.harness import arun_cli, run_cli


def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chibo.sqlite3'}",
        "TELEGRAM_BOT_TOKEN": "",
        "TELEGRAM_BOT_USERNAME": "",
    }


def ok(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = run_cli(args, env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_tree_cells_invites_and_imports(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path)
    shipped = shipped_framework()
    assert f"default framework {shipped.code} v{shipped.version}" in ok(["migrate"], env, tmp_path)
    ok(["committee", "create", "Đảng bộ phường Đông Mai"], env, tmp_path)
    created = ok(
        ["cell", "create", "Chi bộ khu Biểu Nghi", "--committee", "Đảng bộ phường Đông Mai"],
        env,
        tmp_path,
    )
    assert "created cell" in created and "created committee" not in created
    assert "secretary invite" in created and "code: " in created
    assert "TELEGRAM_BOT_USERNAME" in created  # no token: the link cannot be printed

    tree = ok(["cell", "list"], env, tmp_path)
    assert tree.splitlines()[1].startswith("  ") and "Chi bộ khu Biểu Nghi" in tree

    invite = ok(
        ["invite", "create", "--cell", "Chi bộ khu Biểu Nghi", "--uses", "5"], env, tmp_path
    )
    assert "member invite" in invite and "5 use(s)" in invite
    secretary = ["invite", "create", "--cell", "Chi bộ khu Biểu Nghi", "--role", "secretary"]
    assert "secretary invite" in ok(secretary, env, tmp_path)
    officer = ["invite", "create", "--committee", "1", "--role", "committee_officer"]
    assert "committee_officer invite" in ok(officer, env, tmp_path)

    members = tmp_path / "members.csv"
    members.write_text("Họ và tên,status\nTrần Thị Bình,chính thức\nLê Văn Cường,dự bị\n")
    out_file = tmp_path / "invites.csv"
    imported = ok(
        ["member", "import", str(members), "--cell", "2", "--out", str(out_file)], env, tmp_path
    )
    assert "imported 2 members" in imported
    rows = out_file.read_text().splitlines()
    assert rows[0] == "name,code,link,expires_utc" and rows[1].startswith("Trần Thị Bình,")


def test_a_bad_csv_imports_nothing(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path)
    ok(["migrate"], env, tmp_path)
    ok(["cell", "create", "Chi bộ 1", "--committee", "Đảng bộ A"], env, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("name,status\nTrần Thị Bình,official\nLê Văn Cường,unknown-status\n")
    done = run_cli(["member", "import", str(bad), "--cell", "Chi bộ 1"], env, cwd=tmp_path)
    assert done.returncode == 2
    assert "line 3: unknown status 'unknown-status'; nothing was imported" in done.stderr
    good = tmp_path / "good.csv"
    good.write_text("name\nPhạm Thị Dung\n")
    assert "imported 1 members" in ok(
        ["member", "import", str(good), "--cell", "Chi bộ 1"], env, tmp_path
    )


def test_unknown_cell_and_bad_framework_are_clear(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path)
    ok(["migrate"], env, tmp_path)
    done = run_cli(["invite", "create", "--cell", "Không có"], env, cwd=tmp_path)
    assert done.returncode == 2 and "no cell 'Không có'" in done.stderr
    broken = tmp_path / "framework.yaml"
    broken.write_text("code: x\nversion: 1\ngroups: []\n")
    failed = run_cli(["framework", "import", str(broken)], env, cwd=tmp_path)
    assert failed.returncode == 2 and "framework.yaml" in failed.stderr


def test_framework_import_keeps_the_shipped_code_for_the_shipped_file(tmp_path: Path) -> None:
    import yaml

    from bot.rules.framework import default_framework_path

    env = sqlite_env(tmp_path)
    ok(["migrate"], env, tmp_path)
    data = yaml.safe_load(default_framework_path().read_text(encoding="utf-8"))
    data["version"] += 1
    path = tmp_path / "next.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    done = run_cli(["framework", "import", str(path)], env, cwd=tmp_path)
    assert done.returncode == 2 and "reserved for the framework shipped" in done.stderr
    data["code"] = "tinh-ninh-binh"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert f"stored: framework tinh-ninh-binh v{data['version']}" in ok(
        ["framework", "import", str(path)], env, tmp_path
    )
    shipped = str(default_framework_path())
    assert "already stored" in ok(["framework", "import", shipped], env, tmp_path)


async def test_invite_link_uses_the_bot_username_from_get_me(tmp_path: Path) -> None:
    async with FakeBotAPI(username="chibo_ward_bot") as api:
        env = {
            **sqlite_env(tmp_path),
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": api.base_url,
        }
        assert (await arun_cli(["migrate"], env, cwd=tmp_path)).returncode == 0
        done = await arun_cli(
            ["cell", "create", "Chi bộ 2", "--committee", "Đảng bộ B"], env, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert "https://t.me/chibo_ward_bot?start=" in done.stdout
        assert api.calls_to("getMe")


def _member_count(tmp_path: Path) -> int:
    import sqlite3

    with sqlite3.connect(tmp_path / "chibo.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM members").fetchone()[0])


def test_member_import_reads_utf8_and_utf16_and_refuses_other_encodings(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path)
    ok(["migrate"], env, tmp_path)
    ok(["cell", "create", "Chi bộ 1", "--committee", "Đảng bộ A"], env, tmp_path)
    text = "Họ và tên,status\nTrần Thị Bình,chính thức\nLê Văn Cường,dự bị\n"
    before = _member_count(tmp_path)
    for encoding in ("cp1258", "latin-1"):
        path = tmp_path / f"{encoding}.csv"
        sample = "name\nJosé Müller\n" if encoding == "latin-1" else "name\nVăn Đơn\n"
        path.write_bytes(sample.encode(encoding))
        done = run_cli(["member", "import", str(path), "--cell", "Chi bộ 1"], env, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        [said] = [line for line in done.stderr.splitlines() if line.startswith("chibo:")]
        assert "not UTF-8" in said and "nothing was imported" in said
        assert _member_count(tmp_path) == before
    no_bom = tmp_path / "utf16-no-bom.csv"
    no_bom.write_bytes(text.encode("utf-16-le"))
    done = run_cli(["member", "import", str(no_bom), "--cell", "Chi bộ 1"], env, cwd=tmp_path)
    assert done.returncode == 2 and "UTF-16 without a BOM" in done.stderr
    for n, encoding in enumerate(("utf-16", "utf-8-sig", "utf-8")):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        out = tmp_path / f"{encoding}-out.csv"
        args = ["member", "import", str(path), "--cell", "Chi bộ 1", "--out", str(out)]
        assert "imported 2 members" in ok(args, env, tmp_path)
        assert out.read_text(encoding="utf-8").splitlines()[1].startswith("Trần Thị Bình,")
        assert _member_count(tmp_path) == before + 2 * (n + 1)


def test_member_import_cleans_names_and_writes_no_formulas(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path)
    ok(["migrate"], env, tmp_path)
    ok(["cell", "create", "Chi bộ 1", "--committee", "Đảng bộ A"], env, tmp_path)
    path = tmp_path / "nul.csv"
    evil = '=HYPERLINK("http://evil.example/","Bấm")'
    quoted = '"' + evil.replace('"', '""') + '"'
    path.write_bytes(f"name\nTrần\x00 Thị\x07 Bình\n{quoted}\n".encode())
    out = tmp_path / "invites.csv"
    ok(["member", "import", str(path), "--cell", "Chi bộ 1", "--out", str(out)], env, tmp_path)
    with out.open(encoding="utf-8", newline="") as handle:
        written = [row[0] for row in csv.reader(handle)]
    assert written == ["name", "Trần Thị Bình", "'" + evil]  # a name, never a formula
    import sqlite3

    with sqlite3.connect(tmp_path / "chibo.sqlite3") as db:
        names = [row[0] for row in db.execute("SELECT full_name FROM members")]
    assert "Trần Thị Bình" in names


def test_member_list_remove_move_and_set(tmp_path: Path) -> None:
    """An administrator's member changes; refusals exit 2 and change nothing."""
    env = sqlite_env(tmp_path)
    ok(["migrate"], env, tmp_path)
    for cell in ("Chi bộ 1", "Chi bộ 2"):
        ok(["cell", "create", cell, "--committee", "Đảng bộ phường Đông Mai"], env, tmp_path)
    members = tmp_path / "members.csv"
    members.write_text("name,role\nBình,secretary\nCường,member\nDung,member\n")
    ok(["member", "import", str(members), "--cell", "Chi bộ 1"], env, tmp_path)

    listed = ok(["member", "list", "--cell", "Chi bộ 1"], env, tmp_path)
    ids = {line.split()[-1]: line.split()[0] for line in listed.splitlines()[1:]}
    assert listed.startswith("Chi bộ 1: 3 members") and set(ids) == {"Bình", "Cường", "Dung"}

    refused = run_cli(["member", "remove", ids["Bình"], "--reason", "x"], env, cwd=tmp_path)
    assert refused.returncode == 2 and "no secretary left" in refused.stderr
    assert "removed" in ok(["member", "remove", ids["Dung"], "--reason", "Nhầm"], env, tmp_path)
    moved = ok(["member", "move", ids["Cường"], "--to-cell", "Chi bộ 2"], env, tmp_path)
    assert "of Chi bộ 2" in moved
    changed = ok(["member", "set", ids["Bình"], "--status", "exempt"], env, tmp_path)
    assert "status exempt" in changed
    again = run_cli(["member", "set", ids["Dung"], "--role", "member"], env, cwd=tmp_path)
    assert again.returncode == 2 and "already left" in again.stderr

    assert ok(["member", "list", "--cell", "Chi bộ 1"], env, tmp_path).startswith(
        "Chi bộ 1: 1 members"
    )
    assert "Cường" in ok(["member", "list", "--cell", "Chi bộ 2"], env, tmp_path)
