"""Reading Embedded Metric Format documents as CloudWatch would: which metrics a document
defines, under which dimensions, and the values it gives them."""

import json


def documents_in(lines: list[str]) -> list[dict]:
    """The EMF documents among a process's output lines (the JSON log lines left out)."""
    found = [json.loads(line) for line in lines if line.startswith("{")]
    return [document for document in found if "_aws" in document]


def problems(document: dict) -> list[str]:
    """What CloudWatch would refuse: a metric or dimension the document names but does not
    give, a value that is not a number, more than 100 values."""
    found = []
    for directive in document["_aws"]["CloudWatchMetrics"]:
        names = {name for dimension_set in directive["Dimensions"] for name in dimension_set}
        found += [f"dimension {name} missing" for name in names if not isinstance(document.get(name), str)]
        for metric in directive["Metrics"]:
            value = document.get(metric["Name"])
            values = value if isinstance(value, list) else [value]
            if not values or len(values) > 100 or not all(isinstance(v, int | float) for v in values):
                found.append(f"metric {metric['Name']}: {value!r}")
    if not isinstance(document["_aws"].get("Timestamp"), int):
        found.append("no Timestamp")
    return found


def _given(document: dict, name: str, dimensions: dict) -> list:
    if name not in document or any(document.get(k) != v for k, v in dimensions.items()):
        return []
    value = document[name]
    return value if isinstance(value, list) else [value]


def total(documents: list[dict], name: str, **dimensions: str) -> float:
    """The sum of a metric's values where the documents give these dimension values."""
    return sum(sum(_given(document, name, dimensions)) for document in documents)


def values(documents: list[dict], name: str, **dimensions: str) -> list:
    return [value for document in documents for value in _given(document, name, dimensions)]
