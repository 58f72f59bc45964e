#!/usr/bin/env python3
"""Parses FHIR R4 JSON documents with the `fhir.resources` package (its R4B
models, the closest it has to R4 4.0.1), one model per `resourceType`.

    validate.py FILE...      each file holds one JSON document
    validate.py              stdin holds JSON documents, one per line
    validate.py --serve      the same, answering each line on stdout with
                             "ok" or "error <message>" (one line), so that a
                             test process can keep one validator running

A Bundle's entries are parsed again on their own, each with its own model,
so an entry is never accepted as a bare `Resource`. Without --serve the
script stops at the first document that does not parse, printing why, and
exits with status 1; it exits 2 when fhir.resources is missing.
"""

import json
import sys

try:
    from fhir.resources.R4B import get_fhir_model_class
except ImportError as error:  # pragma: no cover - a setup problem
    print(f"fhir.resources is not installed ({error}); "
          "pip install -r .ci/requirements.txt", file=sys.stderr)
    sys.exit(2)


def check(document):
    """Raises ValueError (with the reason) unless the document parses."""
    if not isinstance(document, dict) or "resourceType" not in document:
        raise ValueError("not a FHIR resource: no resourceType")
    kind = document["resourceType"]
    try:
        model = get_fhir_model_class(kind)
    except (KeyError, ValueError) as error:
        raise ValueError(f"unknown resourceType {kind!r}") from error
    model.model_validate(document)
    for index, entry in enumerate(document.get("entry", []) if kind == "Bundle" else []):
        resource = entry.get("resource")
        if resource is None:
            raise ValueError(f"Bundle.entry[{index}] has no resource")
        try:
            check(resource)
        except Exception as error:
            raise ValueError(f"Bundle.entry[{index}]: {error}") from error


def verdict(text):
    try:
        check(json.loads(text))
        return None
    except Exception as error:  # every failure is a verdict, never a crash
        return " ".join(str(error).split())


def main(arguments):
    if arguments == ["--serve"]:
        for line in sys.stdin:
            if not line.strip():
                continue
            problem = verdict(line)
            print("ok" if problem is None else f"error {problem}", flush=True)
        return 0
    if arguments:
        documents = []
        for path in arguments:
            with open(path, encoding="utf-8") as file:
                documents.append((path, file.read()))
    else:
        documents = [(f"stdin line {n}", line)
                     for n, line in enumerate(sys.stdin, start=1) if line.strip()]
    for name, text in documents:
        problem = verdict(text)
        if problem is not None:
            print(f"{name}: {problem}", file=sys.stderr)
            return 1
    print(f"{len(documents)} FHIR document(s) parsed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
