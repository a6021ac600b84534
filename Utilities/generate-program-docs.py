#!/usr/bin/env python3
"""Generates the parameter part of Documentation/Programs/<Name>.md from each program's
Slicer XML description, so that the pages never drift from the programs.

    python3 Utilities/generate-program-docs.py            # update every page (create missing ones)
    python3 Utilities/generate-program-docs.py --check    # exit 1 if a page is out of date
    python3 Utilities/generate-program-docs.py --bin build/bin   # read `<program> --xml` instead

The description of a program is what `<Name> --xml` prints: the XML file
Applications/<Name>/<Name>.xml embedded at build time. By default the files are read (no build
needed); with --bin the built programs are asked, which checks the embedded copy too.

Only the text between the two marker lines of a page is generated; everything outside them
(examples, outputs, notes) is written by hand and kept. A page without markers gets the block
inserted before its first second-level heading (or at its end). Debian's python3 only.
"""
import argparse
import difflib
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

BEGIN = "<!-- BEGIN GENERATED: parameters (Utilities/generate-program-docs.py; edit the program's XML, not this block) -->"
END = "<!-- END GENERATED: parameters -->"

SCALAR_TAGS = {
    "integer": "integer",
    "float": "float",
    "double": "double",
    "boolean": "boolean",
    "string": "text",
    "integer-vector": "integers x,y,...",
    "float-vector": "floats x,y,...",
    "double-vector": "numbers x,y,...",
    "string-vector": "texts a,b,...",
    "point": "point x,y,z",
    "region": "region",
    "directory": "folder",
}
FILE_TAGS = {"image": "image", "file": "file", "transform": "transform", "geometry": "geometry", "table": "table"}


def text_of(element, tag):
    child = element.find(tag)
    return (child.text or "").strip() if child is not None and child.text else ""


def cell(text):
    """Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def describe(xml_text):
    root = ET.fromstring(xml_text)
    program = {
        "title": text_of(root, "title"),
        "description": text_of(root, "description"),
        "version": text_of(root, "version"),
        "category": text_of(root, "category"),
        "groups": [],
    }
    for group in root.findall("parameters"):
        rows = []
        for parameter in group:
            tag = parameter.tag
            if tag in ("label", "description"):
                continue
            name = text_of(parameter, "name")
            flag = text_of(parameter, "longflag")
            short = text_of(parameter, "flag")
            index = text_of(parameter, "index")
            channel = text_of(parameter, "channel")
            default = text_of(parameter, "default")
            kind = FILE_TAGS.get(tag) or SCALAR_TAGS.get(tag, tag)
            if tag.endswith("-enumeration"):
                kind = "one of " + ", ".join(f"`{(e.text or '').strip()}`" for e in parameter.findall("element"))
            if tag == "image" and parameter.get("type"):
                kind = f"{parameter.get('type')} image"
            if tag in FILE_TAGS:
                kind += f" ({channel or 'input'})"
            constraints = parameter.find("constraints")
            if constraints is not None:
                low, high = text_of(constraints, "minimum"), text_of(constraints, "maximum")
                if low and high:
                    kind += f", [{low}, {high}]"
                elif low:
                    kind += f", ≥ {low}"
                elif high:
                    kind += f", ≤ {high}"
            if index:
                how = f"argument {int(index) + 1}"
            elif flag:
                how = f"`--{flag}`" + (f", `-{short}`" if short else "")
            elif short:
                how = f"`-{short}`"
            else:
                how = "result"
            rows.append(
                {
                    "name": name,
                    "how": how,
                    "kind": kind,
                    "default": default,
                    "label": text_of(parameter, "label"),
                    "description": text_of(parameter, "description"),
                }
            )
        program["groups"].append(
            {"label": text_of(group, "label"), "description": text_of(group, "description"), "rows": rows}
        )
    return program


def generated_block(name, program):
    lines = [BEGIN, "", f"**{program['title']}** ({program['category']}, version {program['version']}).", ""]
    lines += [program["description"], ""]
    positional = [r for g in program["groups"] for r in g["rows"] if r["how"].startswith("argument")]
    synopsis = " ".join([name, "[options]"] + [f"<{r['name']}>" for r in positional])
    lines += ["```", synopsis, "```", ""]
    for group in program["groups"]:
        if not group["rows"]:
            continue
        lines += [f"### {group['label']}", ""]
        if group["description"]:
            lines += [group["description"], ""]
        lines += ["| parameter | given as | type | default | description |", "|---|---|---|---|---|"]
        for r in group["rows"]:
            default = f"`{r['default']}`" if r["default"] else ""
            what = r["description"] or r["label"]
            lines.append(f"| `{r['name']}` | {r['how']} | {cell(r['kind'])} | {cell(default)} | {cell(what)} |")
        lines.append("")
    lines += [
        "Every program also takes `--help`, `--version`, `--xml`, `--returnparameterfile <file>` (results as",
        "`name = value` lines) and `--processinformationaddress` (Slicer); see [CommandLine.md](../CommandLine.md).",
        "",
        END,
    ]
    return "\n".join(lines)


def merge(page, block, name):
    if page is None:
        return f"# {name}\n\n{block}\n\n## Examples\n\nTo be written.\n"
    if BEGIN in page and END in page:
        head, rest = page.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        return head + block + tail
    marker = page.find("\n## ")
    if marker < 0:
        return page.rstrip("\n") + "\n\n## Parameters\n\n" + block + "\n"
    return page[: marker + 1] + "## Parameters\n\n" + block + "\n\n" + page[marker + 1 :]


def xml_of(repository, name, bin_dir):
    if bin_dir:
        result = subprocess.run([os.path.join(bin_dir, name), "--xml"], capture_output=True, text=True, check=True)
        return result.stdout
    with open(os.path.join(repository, "Applications", name, f"{name}.xml"), encoding="utf-8") as f:
        return f.read()


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report out-of-date pages and exit 1, write nothing")
    parser.add_argument("--bin", help="folder of built programs: use `<program> --xml`")
    parser.add_argument("--repository", default=here)
    parser.add_argument("programs", nargs="*", help="program names (default: every Applications/<Name>/<Name>.xml)")
    args = parser.parse_args()

    applications = os.path.join(args.repository, "Applications")
    names = args.programs or sorted(
        n for n in os.listdir(applications) if os.path.isfile(os.path.join(applications, n, f"{n}.xml"))
    )
    pages_dir = os.path.join(args.repository, "Documentation", "Programs")
    stale = []
    for name in names:
        block = generated_block(name, describe(xml_of(args.repository, name, args.bin)))
        path = os.path.join(pages_dir, f"{name}.md")
        page = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        updated = merge(page, block, name)
        if updated == page:
            continue
        if args.check:
            stale.append(name)
            diff = difflib.unified_diff(
                (page or "").splitlines(), updated.splitlines(), f"{name}.md (committed)", f"{name}.md (generated)",
                lineterm="", n=1,
            )
            print("\n".join(list(diff)[:40]))
        else:
            os.makedirs(pages_dir, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(updated)
            print(f"updated {os.path.relpath(path, args.repository)}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python3 Utilities/generate-program-docs.py", file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(names)} program pages up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
