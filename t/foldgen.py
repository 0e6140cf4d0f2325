#!/usr/bin/env python3
"""t/foldgen.py SEED CASES DIR -- random transaction streams for
t/2001-dedup-fold-property.t, seeded and reproducible.

Writes into DIR:
  schema.sql    per case i a database pf_i: parent (id PK, u UNIQUE, v),
                child (id PK, parent_id -> parent.id, no cascade, w) and
                nopk (a, b) without a primary key
  dml.sql       per case 10-30 transactions of 1-6 statements over keys
                1..5 (and 11..15 after a primary-key change): inserts,
                updates, deletes, delete+reinsert, primary-key changes,
                unique-value swaps (the three-step swap through NULL, as
                applications do it), multi-row updates, child rows under
                the foreign key, nopk rows with LIMIT, some rollbacks.
                Statements that the source refuses (duplicate key, foreign
                key) are meant to fail: run it with `mariadb --force`; its
                last statement prints "foldgen: end of the cases".
  reset.sql     empties every table (foreign_key_checks=0)
  checksum.sql  one CHECKSUM TABLE statement over every table
The same SEED and CASES give the same files byte for byte.  (It lives in
t/, not t/helpers/, whose files other than *.c are build products that
.gitignore leaves out.)
"""
import os
import random
import sys


def case_dml(rnd, db):
    out = []
    keys = [1, 2, 3, 4, 5]

    def key():
        k = rnd.choice(keys)
        return k + 10 if rnd.random() < 0.2 else k

    def uval():
        return "NULL" if rnd.random() < 0.2 else str(rnd.randint(1, 6))

    def stmt():
        r = rnd.random()
        p, c = f"{db}.parent", f"{db}.child"
        if r < 0.16:
            return [f"INSERT IGNORE INTO {p} VALUES ({key()}, {uval()}, {rnd.randint(0, 9)})"]
        if r < 0.28:
            return [f"UPDATE {p} SET v = v + {rnd.randint(1, 3)} WHERE id = {key()}"]
        if r < 0.34:
            return [f"UPDATE {p} SET u = {uval()} WHERE id = {key()}"]
        if r < 0.42:
            a, b = rnd.sample(keys, 2)
            return [f"SET @ua = (SELECT u FROM {p} WHERE id = {a}), "
                    f"@ub = (SELECT u FROM {p} WHERE id = {b})",
                    f"UPDATE {p} SET u = NULL WHERE id = {a}",
                    f"UPDATE {p} SET u = @ua WHERE id = {b}",
                    f"UPDATE {p} SET u = @ub WHERE id = {a}"]
        if r < 0.48:
            k = rnd.choice(keys)
            if rnd.random() < 0.5:
                return [f"UPDATE {p} SET id = id + 10 WHERE id = {k}"]
            return [f"UPDATE {p} SET id = id - 10 WHERE id = {k + 10}"]
        if r < 0.55:
            return [f"DELETE FROM {p} WHERE id = {key()}"]
        if r < 0.60:
            k = key()
            return [f"DELETE FROM {p} WHERE id = {k}",
                    f"INSERT IGNORE INTO {p} VALUES ({k}, {uval()}, {rnd.randint(0, 9)})"]
        if r < 0.63:
            return [f"UPDATE {p} SET v = v * 2 + 1 WHERE id <= {rnd.randint(2, 15)}"]
        if r < 0.70:
            return [f"INSERT IGNORE INTO {c} VALUES ({rnd.choice(keys)}, {key()}, {rnd.randint(0, 9)})"]
        if r < 0.75:
            return [f"UPDATE {c} SET w = w + 1, parent_id = {key()} WHERE id = {rnd.choice(keys)}"]
        if r < 0.79:
            return [f"UPDATE {c} SET id = {rnd.choice(keys)} WHERE id = {rnd.choice(keys)}"]
        if r < 0.84:
            return [f"DELETE FROM {c} WHERE id = {rnd.choice(keys)}"]
        if r < 0.91:
            return [f"INSERT INTO {db}.nopk VALUES ({rnd.randint(1, 3)}, {rnd.randint(1, 3)})"]
        if r < 0.96:
            return [f"UPDATE {db}.nopk SET b = b + 1 WHERE a = {rnd.randint(1, 3)} LIMIT 1"]
        return [f"DELETE FROM {db}.nopk WHERE a = {rnd.randint(1, 3)} LIMIT 1"]

    for _ in range(rnd.randint(10, 30)):
        out.append("BEGIN;")
        for _ in range(rnd.randint(1, 6)):
            out.extend(s + ";" for s in stmt())
        out.append("ROLLBACK;" if rnd.random() < 0.05 else "COMMIT;")
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: foldgen.py SEED CASES DIR")
    seed, cases, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rnd = random.Random(seed)
    dbs = [f"pf_{i}" for i in range(cases)]
    with open(os.path.join(d, "schema.sql"), "w") as f:
        for db in dbs:
            f.write(f"CREATE DATABASE {db};\n"
                    f"CREATE TABLE {db}.parent (id INT PRIMARY KEY, u INT UNIQUE, v INT);\n"
                    f"CREATE TABLE {db}.child (id INT PRIMARY KEY, parent_id INT, w INT, "
                    f"FOREIGN KEY (parent_id) REFERENCES {db}.parent (id));\n"
                    f"CREATE TABLE {db}.nopk (a INT, b INT);\n")
    with open(os.path.join(d, "dml.sql"), "w") as f:
        for db in dbs:
            f.write("\n".join(case_dml(rnd, db)) + "\n")
        f.write("SELECT 'foldgen: end of the cases';\n")
    with open(os.path.join(d, "reset.sql"), "w") as f:
        f.write("SET foreign_key_checks = 0;\n")
        for db in dbs:
            f.write(f"DELETE FROM {db}.child; DELETE FROM {db}.parent; DELETE FROM {db}.nopk;\n")
    with open(os.path.join(d, "checksum.sql"), "w") as f:
        f.write("CHECKSUM TABLE " + ", ".join(
            f"{db}.{t}" for db in dbs for t in ("parent", "child", "nopk")) + ";\n")


main()
