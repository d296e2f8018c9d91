"""Benchmark: peak memory and time of `edubrain ingest` on hostile files, at full size.

    python benchmarks/hostile_ingest.py [--workdir /tmp/edubrain-hostile] [--scale 1.0]

Builds, in a temporary folder (never committed), the four files an outside probe used, and
ingests each with the DEFAULT bounds in its own child process (the `edubrain` CLI), measuring
that child's peak RSS with `os.wait4` and its wall time:

- an xlsx of ~4 MB whose one sheet expands to 3,000,000 rows;
- a zip bomb: an xlsx with a member of zeros, ~1 MB compressed per GB inflated;
- 200 MB of random text under a valid 学籍 header;
- a 21 MB junk (random bytes) file named as a 学籍 CSV.

`--scale` shrinks the files for a quick try. Prints a markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl

STUDENT_HEADER = (
    "学籍号,身份证件号,姓名,性别,出生日期,民族,户口所在地代码,现住址,学校标识码,学年,年级,班号,"
    "入学年份,学籍状态"
)
TEACHER_HEADER = ["教职工号", "身份证号", "姓名", "性别", "出生日期", "最高学历", "专业技术职务",
                  "任教学科", "骨干教师级别", "学校标识码", "岗位类别", "年度培训学时"]  # fmt: skip


def teacher_members(folder: Path) -> dict[str, bytes]:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "教职工"
    sheet.append(TEACHER_HEADER)
    path = folder / "template.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    path.unlink()
    return members


def many_rows_xlsx(path: Path, rows: int) -> None:
    """A teachers workbook whose sheet holds `rows` repetitive rows (it compresses ~100×)."""
    members = teacher_members(path.parent)
    head, tail = members.pop("xl/worksheets/sheet1.xml").decode().split("</sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            z.writestr(name, data)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head.encode())
            step = 100_000
            for start in range(2, rows + 2, step):
                sheet.write(
                    "".join(
                        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>T{r % 10}</t></is></c>'
                        f'<c r="C{r}" t="inlineStr"><is><t>李老师</t></is></c></row>'
                        for r in range(start, min(start + step, rows + 2))
                    ).encode()
                )
            sheet.write(("</sheetData>" + tail).encode())


def zip_bomb(path: Path, inflated_bytes: int) -> None:
    """A teachers workbook with a second sheet of `inflated_bytes` zeros."""
    members = teacher_members(path.parent)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in members.items():
            z.writestr(name, data)
        with z.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as sheet:
            zeros = bytes(16 << 20)
            for _ in range(inflated_bytes // len(zeros)):
                sheet.write(zeros)


def forge_sizes(path: Path, member: str, claimed: int) -> None:
    """Make both of the zip's size fields for `member` (local header and central directory,
    zip64 extra fields included) claim `claimed` bytes, as a hostile file would."""
    with zipfile.ZipFile(path) as z:
        real = z.getinfo(member).file_size
    data = bytearray(path.read_bytes())
    for width in (4, 8):
        old, new = real.to_bytes(width, "little"), claimed.to_bytes(width, "little")
        at = 0
        while (at := data.find(old, at)) >= 0:
            data[at : at + width] = new
            at += width
    path.write_bytes(bytes(data))


def random_text_csv(path: Path, size: int, seed: int = 1) -> None:
    """`size` bytes of random printable text (with commas, quotes and newlines) under a valid
    学籍 header, GBK-encoded like the real export."""
    alphabet = (
        b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.;:!?-_/()'\"" + b"\n" * 2
    )
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))
    rng = random.Random(seed)
    with path.open("wb") as out:
        out.write((STUDENT_HEADER + "\n").encode("gbk"))
        left = size
        while left > 0:
            block = rng.randbytes(min(left, 8 << 20)).translate(table)
            out.write(block)
            left -= len(block)
        out.write(b"\n")


def junk_file(path: Path, size: int, seed: int = 2) -> None:
    path.write_bytes(random.Random(seed).randbytes(size))


def run_case(path: Path, home: Path) -> dict[str, object]:
    """Ingest `path` with the CLI in a child process; its exit code, last line, peak RSS."""
    env = {**os.environ, "EDUBRAIN_HOME": str(home), "EDUBRAIN_PROGRESS": "false"}
    for name in list(env):
        if name.startswith("EDUBRAIN_INGEST_"):
            del env[name]  # the defaults, whatever the caller's environment says
    code = "from edubrain.cli.main import run; run()"
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", code, "ingest", "--json", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = child.communicate()
    seconds = time.perf_counter() - started
    # communicate() has reaped the child; its rusage is in RUSAGE_CHILDREN only in aggregate,
    # so each case runs through a fresh `wait4` helper process below instead.
    return {"exit": child.returncode, "stdout": out.decode(), "stderr": err.decode(), "s": seconds}


def measured(path: Path, home: Path) -> dict[str, object]:
    """Run `run_case` in a forked child so `wait4` gives exactly its process tree's peak."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run the case, report, exit
        os.close(read_end)
        result = run_case(path, home)
        os.write(write_end, json.dumps(result).encode())
        os._exit(0)
    os.close(write_end)
    chunks = []
    while data := os.read(read_end, 1 << 16):
        chunks.append(data)
    os.close(read_end)
    _, _, usage = os.wait4(pid, 0)
    result: dict[str, object] = json.loads(b"".join(chunks))
    result["peak_rss_mib"] = round(usage.ru_maxrss / 1024)  # the largest process under it
    return result


def outcome(result: dict[str, object]) -> str:
    if result["exit"] == 2:
        lines = str(result["stderr"]).strip().splitlines()
        return "refused (exit 2): " + (lines[-1] if lines else "")
    if result["exit"] == 0:
        text = str(result["stdout"])
        (report,) = json.loads(text[text.index("[") :])
        return (
            f"loaded (exit 0): {report['rows_read']:,} rows read = {report['rows_accepted']:,} "
            f"accepted + {report['rows_quarantined']:,} quarantined ({report['reasons']})"
        )
    return f"exit {result['exit']}: {str(result['stderr']).strip()[-300:]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/edubrain-hostile"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--only", nargs="*", default=None, help="Case names to run.")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()
    work: Path = args.workdir
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    scale = args.scale
    cases = {
        "xlsx, 3,000,000 rows": (
            work / "人事_教职工信息_3m.xlsx",
            lambda p: many_rows_xlsx(p, int(3_000_000 * scale)),
        ),
        "zip bomb of zeros (xlsx)": (
            work / "人事_教职工信息_bomb.xlsx",
            lambda p: zip_bomb(p, int((1 << 30) * scale)),
        ),
        "zip bomb of zeros, sizes forged to 1 KB": (
            work / "人事_教职工信息_forged.xlsx",
            lambda p: (
                zip_bomb(p, int((1 << 30) * scale)),
                forge_sizes(p, "xl/worksheets/sheet2.xml", 1000),
            ),
        ),
        "200 MB random text under a valid header": (
            work / "学籍_学生信息_random.csv",
            lambda p: random_text_csv(p, int(200_000_000 * scale)),
        ),
        "21 MB junk file": (
            work / "学籍_学生信息_junk.csv",
            lambda p: junk_file(p, int(21_000_000 * scale)),
        ),
    }
    results = {}
    print("| case | file size | outcome | peak RSS | seconds |")
    print("|---|---:|---|---:|---:|")
    for name, (path, build) in cases.items():
        if args.only and not any(o in name for o in args.only):
            continue
        build(path)
        size = path.stat().st_size
        result = measured(path, work / f"home-{path.stem}")
        result["file_bytes"] = size
        results[name] = result
        print(
            f"| {name} | {size / 2**20:,.1f} MiB | {outcome(result)} | "
            f"{result['peak_rss_mib']:,} MiB | {result['s']:.1f} |",
            flush=True,
        )
        path.unlink()
        shutil.rmtree(work / f"home-{path.stem}", ignore_errors=True)
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
