"""CRFsuite data files for the python-crfsuite peer scripts (crfsuite-interop.py, vs-crfsuite.py).

One item per line, LABEL<TAB>ATTR[:VALUE]<TAB>..., a blank line between sequences; '\\:'
and '\\\\' escape inside a field, the first unescaped ':' starts the value (default 1);
lines starting with '@' are declarations, skipped as CRFsuite does.
"""


def unescape_field(field):
    """name[:value] -> (name, value): the first unescaped ':' starts the value; '\\:' and '\\\\' escape."""
    name = []
    i = 0
    n = len(field)
    while i < n:
        c = field[i]
        if c == "\\" and i + 1 < n and field[i + 1] in ":\\":
            name.append(field[i + 1])
            i += 2
            continue
        if c == ":":
            return "".join(name), float(field[i + 1 :])
        name.append(c)
        i += 1
    return "".join(name), 1.0


def read_data(path):
    """Yield sequences (items, labels); an item is a list of attribute names, or a {name: value}
    dict (repeated names summed) when some value is not 1. Lines without escapes or values
    take the fast path (no unescaping), as a tagging job's reading is timed."""
    xs, ys = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if not line.strip():
                if xs:
                    yield xs, ys
                    xs, ys = [], []
                continue
            if line.startswith("@"):
                continue
            fields = line.split("\t")
            while len(fields) > 1 and fields[-1] == "":
                fields.pop()
            if "\\" in line or any(":" in a for a in fields[1:]):
                attrs = [unescape_field(a) for a in fields[1:]]
                if all(v == 1.0 for _, v in attrs):
                    xs.append([a for a, _ in attrs])
                else:
                    item = {}
                    for a, v in attrs:
                        item[a] = item.get(a, 0.0) + v
                    xs.append(item)
            else:
                xs.append(fields[1:])
            ys.append(fields[0])
    if xs:
        yield xs, ys
