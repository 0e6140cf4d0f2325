# t/difftest/gen.py — the seeded generator of the differential tester:
# a random schema and workload for one database, from a seed.
#
# The generator is "online": it proposes one unit (a transaction, or one
# statement) at a time, the runner executes it on the source, and DDL
# only changes the generator's model of the schema when the source
# accepted it.  What the source committed is the truth; a statement it
# refuses is part of the workload like any other.
#
# Every feature is a name in FEATURES with a weight; --only and
# --exclude select them (see t/difftest/README).

import random

# name: (weight, what it adds).  A weight of 0 means off unless --only
# names it.
FEATURES = {
    'types': (3, 'columns of extreme types: FLOAT/DOUBLE limits, denormals, '
              'DECIMAL(65,30), BIT(64), TIME, zero dates, YEAR, ENUM/SET, JSON, '
              'BLOB with NUL, 4-byte UTF-8, latin1, BINARY, INET6, UUID'),
    'float_max': (1, 'FLOAT at -FLT_MAX / +FLT_MAX'),
    'pk_kinds': (3, 'signed/unsigned/composite/case-insensitive VARCHAR keys'),
    'nopk': (2, 'tables without a primary key'),
    'nopk_ci': (1, 'keyless tables with case-insensitive text and an update by it'),
    'unique': (2, 'nullable and composite UNIQUE keys, swaps of UNIQUE values'),
    'unique_reuse': (1, 'a deleted parent\'s UNIQUE value reused in one transaction'),
    'fk': (2, 'FOREIGN KEY chains with RESTRICT / NO ACTION'),
    'fk_cascade': (2, 'FOREIGN KEY ON DELETE/UPDATE CASCADE and SET NULL, '
                   'self-referencing, several levels deep'),
    'generated': (2, 'VIRTUAL / STORED generated and INVISIBLE columns'),
    'defaults': (2, 'DEFAULT expressions'),
    'autoinc': (2, 'AUTO_INCREMENT keys'),
    'partition': (1, 'partitioned tables'),
    'sequence': (1, 'sequences'),
    'versioned': (1, 'system-versioned tables (current rows compared)'),
    'versioned_history': (1, 'system-versioned tables: the history compared too'),
    'myisam': (1, 'a MyISAM or Aria table'),
    'geometry': (1, 'POINT NOT NULL columns, written under sql_mode=\'\''),
    'triggers': (2, 'triggers writing other tables'),
    'trigger_generated': (1, 'a BEFORE UPDATE trigger changing a column that a STORED '
                          'generated column reads'),
    'nopk_virtual': (1, 'keyless tables with VIRTUAL columns (srdf-verify compares '
                     'them by CHECKSUM TABLE, unstable there)'),
    'xa': (1, 'XA START/END/PREPARE/COMMIT'),
    'ddl': (2, 'DDL mid-stream: ADD/DROP/MODIFY COLUMN, indexes, RENAME, '
            'TRUNCATE, CREATE/DROP'),
    'bootstrap_ddl': (2, 'mode c: DDL in the load that runs while srdf-bootstrap copies'),
    'sqlmode': (2, 'writes under sql_mode=\'\''),
    'bigtxn': (1, 'transactions of thousands of rows'),
    'savepoints': (2, 'rollbacks and savepoints'),
    'multitable': (2, 'multi-table UPDATE and DELETE'),
}

FLT_MAX = '3.402823466E+38'


def q(s):
    """A SQL string literal of a Python str."""
    return "'" + s.replace('\\', '\\\\').replace("'", "''") + "'"


def hx(b):
    return "x'" + b.hex() + "'" if b else "''"


class Col:
    def __init__(self, name, sqltype, values, keyvals=None, nullable=True,
                 extra='', writable=True):
        self.name = name
        self.sqltype = sqltype
        self.values = values        # SQL literals for ordinary writes
        self.keyvals = keyvals or values   # a small domain, for keys
        self.nullable = nullable
        self.extra = extra          # generated, default, invisible...
        self.writable = writable

    def ddl(self):
        s = '`%s` %s' % (self.name, self.sqltype)
        if not self.nullable and 'AS (' not in self.extra:
            s += ' NOT NULL'
        if self.extra:
            s += ' ' + self.extra
        return s


def type_pool(g):
    """(sqltype, values, keyvals) of the columns a table may get."""
    ints = ['0', '1', '-1', '7', '42', '-2147483648', '2147483647']
    pool = [
        ('INT', ints, ['1', '2', '3', '4', '5']),
        ('BIGINT UNSIGNED', ['0', '1', '18446744073709551615',
                             '9223372036854775808'], ['1', '2', '3', '4']),
        ('VARCHAR(30)', ["'a'", "'b'", "''", "'x y'", "'abc'"],
         ["'a'", "'b'", "'c'"]),
        ('SMALLINT', ['-32768', '32767', '0', '5'], ['1', '2', '3']),
    ]
    if g.on('types'):
        fl = ['0', '-0', '1.5', '1.17549435E-38', '1.4E-45', '-1.4E-45',
              '3.4E+38', '-3.4E+38', '0.1']
        if g.on('float_max'):
            fl += [FLT_MAX, '-' + FLT_MAX]
        pool += [
            ('FLOAT', fl, None),
            ('DOUBLE', ['1.7976931348623157E308', '-1.7976931348623157E308',
                        '4.9E-324', '2.2250738585072014E-308', '-0', '0.1',
                        '1e-300'], None),
            ('DECIMAL(65,30)', [
                '99999999999999999999999999999999999.999999999999999999999999999999',
                '-99999999999999999999999999999999999.999999999999999999999999999999',
                '0.000000000000000000000000000001', '0', '-1.5'], None),
            ('BIT(64)', ["b'" + '1' * 64 + "'", "b'0'", "x'8000000000000000'",
                         "b'101'"], None),
            ('TIME(6)', ["'-838:59:59'", "'838:59:59'", "'-00:00:00.5'",
                         "'12:34:56.789012'", "'00:00:00'"], None),
            ('DATE', ["'0000-00-00'", "'2020-02-29'", "'9999-12-31'",
                      "'1000-01-01'", "'2020-00-00'"], None),
            ('DATETIME(6)', ["'0000-00-00 00:00:00'", "'9999-12-31 23:59:59.999999'",
                             "'1000-01-01 00:00:00.000001'", "'2020-01-01 12:00:00'"],
             None),
            ('TIMESTAMP(3) NULL', ["'1970-01-01 00:00:01'", "'2038-01-19 03:14:07.999'",
                                   "'2000-06-15 10:00:00.5'"], None),
            ('YEAR', ['0', '1901', '2155', '2024', "'0000'"], None),
            ("ENUM('','a','b c','\u00e9')", ["''", "'a'", "'b c'", "'\u00e9'", '1'],
             None),
            ("SET('','x','y','z')", ["''", "'x'", "'x,y'", "'x,y,z'", "'z'"], None),
            ('JSON', ["'{\"a\": [1, 2.5, null, \"\\\\u00e9\"]}'", "'[]'", "'\"s\"'",
                      "'{\"k\": 1e308, \"n\": -0.0}'", "'{}'"], None),
            ('BLOB', [hx(b'\x00'), hx(b'\x00\xff\x00'), "''", hx(bytes(range(256))),
                      hx(b'a\x00b')], None),
            ('VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin',
             ["'\U0001F600'", "'\u00e4'", "''", "'a\U0001F600b'", "'A'"], None),
            ('VARCHAR(20) CHARACTER SET latin1',
             ["'caf\u00e9'", "'\u00ff'", "''", "'A'", "'a'"], None),
            ('BINARY(8)', ["'ab'", hx(b'\x00'), "''", hx(b'\x00' * 8),
                           "'abcdefgh'"], None),
            ('CHAR(5)', ["'a  '", "''", "'abcde'", "' '"], None),
            ('INET6', ["'::1'", "'::ffff:1.2.3.4'", "'2001:db8::1'", "'::'"],
             None),
            ('UUID', ["'123e4567-e89b-12d3-a456-426655440000'",
                      "'00000000-0000-0000-0000-000000000000'",
                      "'ffffffff-ffff-ffff-ffff-ffffffffffff'"], None),
            ('TEXT CHARACTER SET utf8mb4', ["'\U0001F600\u00e9'", "''",
                                            q('x' * 300)], None),
            ('TINYINT UNSIGNED', ['0', '255', '128'], None),
            ('MEDIUMINT', ['-8388608', '8388607', '0'], None),
        ]
    return pool


class Table:
    def __init__(self, name):
        self.name = name
        self.cols = []
        self.pk = []          # column names
        self.uniques = []     # lists of column names
        self.kind = set()     # feature tags
        self.engine = 'InnoDB'
        self.parent = None    # (table, fkcol) of a foreign key
        self.versioned = False
        self.partitioned = False
        self.autoinc = None
        self.ci_text = None   # a case-insensitive text column

    def col(self, name):
        for c in self.cols:
            if c.name == name:
                return c
        return None

    def writable(self):
        return [c for c in self.cols if c.writable]


class Gen:
    def __init__(self, seed, only=None, exclude=(), size=1.0):
        self.seed = seed
        self.rng = random.Random(seed)
        r = self.rng
        names = list(FEATURES)
        if only:
            self.features = set(only)
        else:
            # Each seed turns on a random subset, weighted.
            self.features = set(n for n in names
                                if r.random() < FEATURES[n][0] / 4.0)
        self.features -= set(exclude)
        self.size = size
        self.db = None
        self.tables = []
        self.ntab = 0
        self.sequences = []
        self.xid = 0
        self.units_left = 0
        self.no_ddl = False

    def on(self, f):
        return f in self.features

    # ---- schema ----------------------------------------------------

    def newname(self, prefix='t'):
        self.ntab += 1
        return '%s%d' % (prefix, self.ntab)

    def make_table(self, parent=None):
        r = self.rng
        t = Table(self.newname())
        pool = type_pool(self)
        # The key.
        kinds = ['int']
        if self.on('pk_kinds'):
            kinds += ['uint', 'composite', 'ci', 'ci']
        if self.on('nopk') and parent is None:
            kinds += ['none']
        if self.on('autoinc'):
            kinds += ['auto']
        k = r.choice(kinds)
        if k == 'int':
            t.cols.append(Col('id', 'INT', None, ['-3', '-1', '0', '1', '2', '3',
                                                  '4', '5', '6', '7', '8'],
                              nullable=False))
            t.pk = ['id']
        elif k == 'uint':
            t.cols.append(Col('id', 'BIGINT UNSIGNED', None,
                              ['0', '1', '2', '3', '4', '5', '18446744073709551615',
                               '9223372036854775807'], nullable=False))
            t.pk = ['id']
        elif k == 'composite':
            t.cols.append(Col('a', 'INT', None, ['1', '2', '3'], nullable=False))
            t.cols.append(Col('b', 'VARCHAR(10)', None, ["'x'", "'y'", "'Y'", "''"],
                              nullable=False))
            t.pk = ['a', 'b']
            t.kind.add('pk_composite')
        elif k == 'ci':
            t.cols.append(Col('id', 'VARCHAR(20) COLLATE utf8mb4_general_ci', None,
                              ["'a'", "'A'", "'b'", "'B '", "'\u00e4'", "'ss'",
                               "'\u00df'", "'c'", "''"], nullable=False))
            t.pk = ['id']
            t.kind.add('pk_ci')
        elif k == 'auto':
            t.cols.append(Col('id', 'INT', None, ['1', '2', '3', '4', '5', '6'],
                              nullable=False, extra='AUTO_INCREMENT'))
            t.pk = ['id']
            t.autoinc = 'id'
            t.kind.add('autoinc')
        else:
            t.kind.add('nopk')
        for c in t.cols:
            c.values = c.keyvals
        # Ordinary columns.
        for i in range(r.randint(1, 4)):
            ty, vals, kv = r.choice(pool)
            nullable = r.random() < 0.6
            vals = list(vals) + (['NULL'] if nullable else [])
            t.cols.append(Col('c%d' % i, ty, vals, kv, nullable=nullable))
        # An int column always, for arithmetic updates and generated columns.
        t.cols.append(Col('n', 'INT', ['0', '1', '2', '5', '-7', '100', 'NULL'],
                          ['1', '2', '3'], nullable=True))
        if k == 'none' and self.on('nopk_ci'):
            t.cols.append(Col('ci', 'VARCHAR(10) COLLATE utf8mb4_general_ci',
                              ["'a'", "'A'", "'b'", "'B'", "'\u00e4'"],
                              nullable=False))
            t.ci_text = 'ci'
            t.kind.add('nopk_ci')
        if self.on('unique') and k != 'none' and r.random() < 0.7:
            t.cols.append(Col('u', 'INT', ['1', '2', '3', '4', '5', 'NULL'],
                              nullable=True))
            t.uniques.append(['u'])
            t.kind.add('unique')
            if r.random() < 0.5:
                t.cols.append(Col('u2', 'VARCHAR(5)', ["'p'", "'q'", "'r'", 'NULL'],
                                  nullable=True))
                t.uniques.append(['u2', 'n'])
        if self.on('generated') and r.random() < 0.7 and (
                k != 'none' or self.on('nopk_virtual')):
            t.cols.append(Col('gv', 'INT', None, nullable=True,
                              extra='AS (n * 2 + 1) VIRTUAL', writable=False))
            t.cols.append(Col('gs', 'VARCHAR(40)', None, nullable=True,
                              extra="AS (CONCAT('n=', n)) STORED", writable=False))
            t.cols.append(Col('inv', 'INT', ['1', '9', 'NULL'], nullable=True,
                              extra='INVISIBLE DEFAULT 5'))
            t.kind.add('generated')
        if self.on('defaults') and r.random() < 0.7:
            t.cols.append(Col('d1', 'INT', ['3'], nullable=True,
                              extra='DEFAULT (1 + 1)'))
            t.cols.append(Col('d2', 'VARCHAR(40)', ["'given'"], nullable=True,
                              extra="DEFAULT (CONCAT('dflt-', 7 * 6))"))
            t.cols.append(Col('d3', 'DATETIME(6)', ["'2001-01-01 00:00:00'"],
                              nullable=True, extra='DEFAULT CURRENT_TIMESTAMP(6)'))
            t.kind.add('defaults')
        if self.on('geometry') and r.random() < 0.5:
            t.cols.append(Col('pt', 'POINT', ["ST_GeomFromText('POINT(1 2)')",
                                              "ST_GeomFromText('POINT(-1.5 1e10)')"],
                              nullable=False))
            t.kind.add('geometry')
        if parent is not None:
            ptab, rule = parent
            pc = ptab.col(ptab.pk[0])
            t.cols.append(Col('pid', pc.sqltype, pc.keyvals + ['NULL'],
                              nullable=True))
            t.parent = (ptab, 'pid', rule)
            t.kind.add('fk_cascade' if 'CASCADE' in rule or 'SET NULL' in rule
                       else 'fk')
        # Engine and options.
        opts = ''
        if self.on('myisam') and parent is None and r.random() < 0.25:
            t.engine = r.choice(['MyISAM', 'Aria'])
            t.kind.add('myisam')
        elif self.on('versioned') and parent is None and r.random() < 0.25:
            t.versioned = True
            t.kind.add('versioned')
        elif (self.on('partition') and parent is None and k in ('int', 'uint')
              and not t.uniques and r.random() < 0.3):
            t.partitioned = True
            t.kind.add('partition')
        return t

    def create_sql(self, t):
        parts = [c.ddl() for c in t.cols]
        if t.pk:
            parts.append('PRIMARY KEY (%s)' % ', '.join('`%s`' % c for c in t.pk))
        for i, u in enumerate(t.uniques):
            parts.append('UNIQUE KEY uk%d (%s)' % (i, ', '.join(u)))
        if t.parent:
            ptab, col, rule = t.parent
            parts.append('KEY (%s)' % col)
            parts.append('CONSTRAINT fk_%s FOREIGN KEY (%s) REFERENCES `%s` (`%s`) %s'
                         % (t.name, col, ptab.name, ptab.pk[0], rule))
        s = 'CREATE TABLE `%s` (\n  %s\n) ENGINE=%s' % (t.name, ',\n  '.join(parts),
                                                        t.engine)
        if t.versioned:
            s += ' WITH SYSTEM VERSIONING'
        if t.partitioned:
            s += ' PARTITION BY KEY (id) PARTITIONS 3'
        return s

    def schema_units(self, db):
        """The units that create the database and its tables."""
        r = self.rng
        self.db = db
        units = [['CREATE DATABASE `%s`' % db]]
        n = r.randint(2, 4)
        for i in range(n):
            t = self.make_table()
            self.tables.append(t)
            units.append([self.create_sql(t)])
        # Foreign-key chains.
        rules = []
        if self.on('fk'):
            rules += ['ON DELETE RESTRICT ON UPDATE RESTRICT', '', 'ON DELETE NO ACTION']
        if self.on('fk_cascade'):
            rules += ['ON DELETE CASCADE ON UPDATE CASCADE', 'ON DELETE SET NULL',
                      'ON DELETE CASCADE', 'ON UPDATE SET NULL ON DELETE CASCADE']
        if rules:
            parents = [t for t in self.tables if t.engine == 'InnoDB' and t.pk
                       and len(t.pk) == 1 and not t.versioned
                       and not t.partitioned]
            if parents:
                p = r.choice(parents)
                for depth in range(r.randint(1, 3)):
                    c = self.make_table(parent=(p, r.choice(rules)))
                    self.tables.append(c)
                    units.append([self.create_sql(c)])
                    p = c
                if self.on('fk_cascade') and r.random() < 0.6:
                    # A self-referencing table.
                    t = self.make_table()
                    if t.pk and len(t.pk) == 1 and t.engine == 'InnoDB' \
                            and not t.versioned and not t.partitioned:
                        pc = t.col(t.pk[0])
                        t.cols.append(Col('sid', pc.sqltype, pc.keyvals + ['NULL']))
                        rule = r.choice(['ON DELETE CASCADE', 'ON DELETE SET NULL'])
                        t.parent = (t, 'sid', rule)
                        t.kind.add('fk_cascade')
                        t.kind.add('fk_self')
                        self.tables.append(t)
                        units.append([self.create_sql(t)])
        if self.on('sequence'):
            s = self.newname('s')
            self.sequences.append(s)
            units.append(['CREATE SEQUENCE `%s` START WITH %d INCREMENT BY %d CACHE %d'
                          % (s, r.randint(1, 100), r.choice([1, 3, -1]),
                             r.choice([0, 5, 1000]))])
        if self.on('triggers'):
            keep = set(self.features)
            if not self.on('trigger_generated'):
                self.features.discard('generated')
            t = self.make_table()
            self.features = keep
            t.kind.add('trigger_log')
            self.tables.append(t)
            log = Table(self.newname('log'))
            log.cols = [Col('id', 'INT', None, ['1'], nullable=False,
                            extra='AUTO_INCREMENT'),
                        Col('what', 'VARCHAR(40)', ["'x'"]),
                        Col('at', 'DATETIME(6)', ["'2000-01-01'"],
                            extra='DEFAULT CURRENT_TIMESTAMP(6)')]
            log.pk = ['id']
            log.autoinc = 'id'
            log.kind.add('triggers')
            self.tables.append(log)
            units.append([self.create_sql(t)])
            units.append([self.create_sql(log)])
            units.append(["CREATE TRIGGER `%s_ai` AFTER INSERT ON `%s` FOR EACH ROW "
                          "INSERT INTO `%s` (what) VALUES (CONCAT('ins ', NEW.n))"
                          % (t.name, t.name, log.name)])
            units.append(["CREATE TRIGGER `%s_bu` BEFORE UPDATE ON `%s` FOR EACH ROW "
                          "SET NEW.n = IFNULL(NEW.n, 0) + 1000" % (t.name, t.name)])
            units.append(["CREATE TRIGGER `%s_ad` AFTER DELETE ON `%s` FOR EACH ROW "
                          "INSERT INTO `%s` (what, at) VALUES ('del', NOW(6))"
                          % (t.name, t.name, log.name)])
            t.kind.add('triggers')
        return units

    # ---- values ----------------------------------------------------

    def val(self, c, key=False):
        vals = c.keyvals if key else c.values
        return self.rng.choice(vals)

    def keyval(self, t, c):
        return self.rng.choice(c.keyvals)

    def row(self, t, cols):
        out = []
        for c in cols:
            if t.autoinc == c.name and self.rng.random() < 0.5:
                out.append('NULL')
            elif c.name in t.pk or (t.parent and c.name == t.parent[1]):
                out.append(self.val(c, key=True))
            else:
                out.append(self.val(c))
        return '(' + ', '.join(out) + ')'

    def where_key(self, t):
        r = self.rng
        if t.pk:
            return ' AND '.join('`%s` = %s' % (k, self.keyval(t, t.col(k)))
                                for k in t.pk)
        c = r.choice(t.writable())
        return '`%s` = %s' % (c.name, self.val(c)) if r.random() < 0.7 \
            else 'n = %s' % r.choice(['1', '2', '5', '0'])

    def ins_cols(self, t):
        r = self.rng
        cols = [c for c in t.writable() if r.random() < 0.85 or c.name in t.pk
                or not c.nullable]
        if t.autoinc and r.random() < 0.3:
            cols = [c for c in cols if c.name != t.autoinc]
        return cols

    # ---- statements ------------------------------------------------

    def pick_table(self):
        ts = [t for t in self.tables if t.cols]
        return self.rng.choice(ts) if ts else None

    def dml(self, t=None):
        r = self.rng
        t = t or self.pick_table()
        if t is None:
            return 'SELECT 1'
        name = '`%s`' % t.name
        cols = self.ins_cols(t)
        clist = ', '.join('`%s`' % c.name for c in cols)
        kinds = ['insert'] * 4 + ['update'] * 3 + ['delete'] * 2 + ['odku', 'replace',
                                                                    'ignore']
        if t.pk:
            kinds += ['pkmove'] * 2
        if t.ci_text:
            kinds += ['ci_update'] * 3
        k = r.choice(kinds)
        if k in ('insert', 'ignore', 'replace', 'odku'):
            rows = ', '.join(self.row(t, cols) for _ in range(r.randint(1, 5)))
            verb = {'insert': 'INSERT', 'ignore': 'INSERT IGNORE',
                    'replace': 'REPLACE', 'odku': 'INSERT'}[k]
            s = '%s INTO %s (%s) VALUES %s' % (verb, name, clist, rows)
            if k == 'odku':
                upd = [c for c in t.writable() if c.name not in t.pk] or t.writable()
                c = r.choice(upd)
                if c.name == 'n':
                    s += ' ON DUPLICATE KEY UPDATE n = IFNULL(n, 0) + 1'
                else:
                    s += ' ON DUPLICATE KEY UPDATE `%s` = VALUES(`%s`)' % (c.name, c.name)
            return s
        if k == 'update':
            upd = [c for c in t.writable() if c.name not in t.pk]
            if not upd:
                return 'SELECT 1'
            sets = []
            for c in r.sample(upd, min(len(upd), r.randint(1, 2))):
                if c.name == 'n' and r.random() < 0.5:
                    sets.append('n = IFNULL(n, 0) + 1')
                else:
                    sets.append('`%s` = %s' % (c.name, self.val(c)))
            w = self.where_key(t) if r.random() < 0.7 else \
                'n %s %s' % (r.choice(['<', '>', '=']), r.choice(['1', '3', '50']))
            return 'UPDATE %s SET %s WHERE %s' % (name, ', '.join(sets), w)
        if k == 'ci_update':
            return "UPDATE %s SET n = %s WHERE `%s` = %s LIMIT 1" % (
                name, r.choice(['11', '12', 'n + 1']), t.ci_text,
                r.choice(["'a'", "'A'", "'b'"]))
        if k == 'delete':
            if r.random() < 0.7:
                return 'DELETE FROM %s WHERE %s' % (name, self.where_key(t))
            if t.pk and r.random() < 0.5:
                return 'DELETE FROM %s ORDER BY %s LIMIT %d' % (
                    name, ', '.join('`%s`' % k for k in t.pk), r.randint(1, 3))
            return 'DELETE FROM %s WHERE n %s %s' % (name, r.choice(['<', '>', '=']),
                                                      r.choice(['1', '2', '50']))
        if k == 'pkmove':
            c = t.col(t.pk[0])
            if r.random() < 0.6 or c.sqltype.startswith('VARCHAR'):
                return 'UPDATE %s SET `%s` = %s WHERE %s' % (
                    name, c.name, self.keyval(t, c), self.where_key(t))
            return 'UPDATE %s SET `%s` = `%s` + 1 ORDER BY `%s` DESC' % (
                name, c.name, c.name, c.name)
        return 'SELECT 1'

    def swap_unique(self, t):
        a, b = self.keyval(t, t.col(t.pk[0])), self.keyval(t, t.col(t.pk[0]))
        k = t.pk[0]
        n = '`%s`' % t.name
        return ['BEGIN',
                'SELECT u INTO @x FROM %s WHERE `%s` = %s' % (n, k, a),
                'SELECT u INTO @y FROM %s WHERE `%s` = %s' % (n, k, b),
                'UPDATE %s SET u = NULL WHERE `%s` = %s' % (n, k, a),
                'UPDATE %s SET u = @x WHERE `%s` = %s' % (n, k, b),
                'UPDATE %s SET u = @y WHERE `%s` = %s' % (n, k, a),
                'COMMIT']

    def unique_reuse(self, t):
        k = t.pk[0]
        n = '`%s`' % t.name
        a = self.keyval(t, t.col(k))
        b = self.keyval(t, t.col(k))
        return ['BEGIN',
                'SELECT u INTO @x FROM %s WHERE `%s` = %s' % (n, k, a),
                'DELETE FROM %s WHERE `%s` = %s' % (n, k, a),
                'UPDATE %s SET u = @x WHERE `%s` = %s' % (n, k, b),
                'COMMIT']

    def multitable(self):
        r = self.rng
        ts = [t for t in self.tables if t.cols and t.col('n')]
        if len(ts) < 2:
            return self.dml()
        a, b = r.sample(ts, 2)
        if r.random() < 0.5:
            return ('UPDATE `%s` x JOIN `%s` y ON x.n = y.n SET x.n = IFNULL(x.n, 0) + 2,'
                    ' y.n = IFNULL(y.n, 0) + 3 WHERE x.n < %d' % (a.name, b.name,
                                                                 r.randint(1, 20)))
        return ('DELETE x, y FROM `%s` x JOIN `%s` y ON x.n = y.n WHERE x.n %s %d'
                % (a.name, b.name, r.choice(['<', '=', '>']), r.randint(0, 6)))

    def bigtxn(self):
        r = self.rng
        t = self.pick_table()
        if t is None or not t.pk or len(t.pk) != 1:
            return [self.dml()]
        c = t.col(t.pk[0])
        if not (c.sqltype.startswith('INT') or c.sqltype.startswith('BIGINT')):
            return [self.dml()]
        n = int(r.randint(500, 3000) * self.size)
        base = r.randint(1000, 5000)
        others = [x for x in t.writable() if x.name != c.name and not x.nullable]
        cols = ['`%s`' % c.name, 'n'] + ['`%s`' % x.name for x in others]
        vals = ['seq + %d' % base, 'seq %% 7'] + [self.val(x) for x in others]
        if t.parent and t.parent[1] not in [x.name for x in others]:
            pass
        u = ['BEGIN',
             'INSERT IGNORE INTO `%s` (%s) SELECT %s FROM seq_1_to_%d' % (
                 t.name, ', '.join(cols), ', '.join(vals), n),
             'UPDATE `%s` SET n = n + 1 WHERE `%s` >= %d' % (t.name, c.name, base),
             r.choice(['COMMIT', 'COMMIT', 'ROLLBACK'])]
        if r.random() < 0.5:
            u.insert(-1, 'DELETE FROM `%s` WHERE `%s` >= %d AND n = 3' % (
                t.name, c.name, base))
        return u

    def ddl(self):
        r = self.rng
        t = self.pick_table()
        if t is None:
            return [], None
        n = '`%s`' % t.name
        k = r.choice(['add', 'add', 'drop', 'modify', 'index', 'dropindex', 'rename',
                      'truncate', 'create', 'drop_table'])
        if k == 'add':
            cn = 'x%d' % r.randint(1, 99)
            ty, vals = r.choice([('INT', ['1', '2', 'NULL']),
                                 ('VARCHAR(10)', ["'v'", "'w'", 'NULL'])])
            dflt = r.choice([' DEFAULT 7' if ty == 'INT' else " DEFAULT 'dv'", ''])
            pos = r.choice(['', ' FIRST', ' AFTER n'])
            col = Col(cn, ty, vals)

            def ok():
                t.cols.append(col)
            return ['ALTER TABLE %s ADD COLUMN `%s` %s%s%s' % (n, cn, ty, dflt, pos)], ok
        if k == 'drop':
            cands = [c for c in t.cols if c.name not in t.pk and c.name not in
                     ('n', 'pid', 'sid', 'u', 'u2', 'ci') and c.writable]
            if not cands:
                return [], None
            c = r.choice(cands)

            def ok():
                t.cols.remove(c)
            return ['ALTER TABLE %s DROP COLUMN `%s`' % (n, c.name)], ok
        if k == 'modify':
            c = t.col('n')
            if c is None:
                return [], None
            ty = r.choice(['BIGINT', 'INT NOT NULL DEFAULT 0', 'DECIMAL(20,2)',
                           'VARCHAR(20)', 'INT'])

            def ok():
                c.sqltype = ty
            return ['ALTER TABLE %s MODIFY COLUMN n %s' % (n, ty)], ok
        if k == 'index':
            c = r.choice(t.cols)
            if c.sqltype.split('(')[0] in ('BLOB', 'TEXT', 'JSON', 'POINT'):
                return [], None
            return ['ALTER TABLE %s ADD %sINDEX ix_%s (`%s`)' % (
                n, r.choice(['', '', 'UNIQUE ']), c.name, c.name)], None
        if k == 'dropindex':
            c = r.choice(t.cols)
            return ['ALTER TABLE %s DROP INDEX ix_%s' % (n, c.name)], None
        if k == 'rename':
            new = self.newname()

            def ok():
                t.name = new
            return ['RENAME TABLE %s TO `%s`' % (n, new)], ok
        if k == 'truncate':
            return ['TRUNCATE TABLE %s' % n], None
        if k == 'create':
            nt = self.make_table()

            def ok():
                self.tables.append(nt)
            return [self.create_sql(nt)], ok
        if k == 'drop_table':
            if any(x.parent and x.parent[0] is t and x is not t for x in self.tables):
                return [], None

            def ok():
                self.tables.remove(t)
            return ['DROP TABLE %s' % n], ok
        return [], None

    def unit(self):
        """One unit: (statements, callback on success of the last or None)."""
        r = self.rng
        choices = [('dml', 10), ('txn', 6)]
        if self.on('savepoints'):
            choices.append(('savepoint', 3))
        if self.on('multitable'):
            choices.append(('multi', 2))
        if self.on('xa'):
            choices.append(('xa', 2))
        if self.on('ddl') and not self.no_ddl:
            choices.append(('ddl', 1))
        if self.on('sqlmode'):
            choices.append(('sqlmode', 2))
        if self.on('geometry'):
            choices.append(('geometry', 1))
        if self.on('bigtxn'):
            choices.append(('big', 1))
        if self.on('unique'):
            choices.append(('swap', 2))
        if self.on('unique_reuse'):
            choices.append(('reuse', 2))
        if self.on('sequence') and self.sequences:
            choices.append(('seq', 2))
        if self.on('fk_cascade') or self.on('fk'):
            choices.append(('parentdel', 3))
        tot = sum(w for _, w in choices)
        x = r.uniform(0, tot)
        for kind, w in choices:
            x -= w
            if x <= 0:
                break
        if kind == 'dml':
            return [self.dml()], None
        if kind == 'txn':
            body = [self.dml() for _ in range(r.randint(2, 6))]
            return ['BEGIN'] + body + [r.choice(['COMMIT'] * 4 + ['ROLLBACK'])], None
        if kind == 'savepoint':
            u = ['BEGIN', self.dml(), 'SAVEPOINT sp1', self.dml(), self.dml()]
            u.append(r.choice(['ROLLBACK TO SAVEPOINT sp1', 'RELEASE SAVEPOINT sp1']))
            u += [self.dml(), r.choice(['COMMIT', 'COMMIT', 'ROLLBACK'])]
            return u, None
        if kind == 'multi':
            if r.random() < 0.5:
                return [self.multitable()], None
            return ['BEGIN', self.multitable(), self.dml(), 'COMMIT'], None
        if kind == 'xa':
            self.xid += 1
            x = "'dtx%d-%d'" % (self.seed, self.xid)
            body = [self.dml() for _ in range(r.randint(1, 4))]
            end = r.choice(['prep_commit', 'prep_commit', 'prep_rollback', 'one_phase'])
            if end == 'one_phase':
                return ['XA START ' + x] + body + ['XA END ' + x,
                                                   'XA COMMIT %s ONE PHASE' % x], None
            return (['XA START ' + x] + body + ['XA END ' + x, 'XA PREPARE ' + x,
                    ('XA COMMIT ' if end == 'prep_commit' else 'XA ROLLBACK ') + x],
                    None)
        if kind == 'ddl':
            stmts, ok = self.ddl()
            if not stmts:
                return [self.dml()], None
            return stmts, ok
        if kind == 'sqlmode':
            t = self.pick_table()
            body = []
            if t is not None:
                name = '`%s`' % t.name
                cols = self.ins_cols(t)
                c = r.choice(t.writable())
                body = [
                    "INSERT INTO %s (%s) VALUES %s" % (
                        name, ', '.join('`%s`' % c.name for c in cols),
                        self.row(t, cols)),
                    "UPDATE %s SET `%s` = %s WHERE %s" % (
                        name, c.name, r.choice(["'garbage'", "'99999999999999999999999'",
                                                "'2020-13-45'", '-1', "''"]),
                        self.where_key(t)),
                    "INSERT INTO %s (n) VALUES ('12abc')" % name,
                ]
                r.shuffle(body)
                body = body[:r.randint(1, 3)]
            return ["SET SESSION sql_mode = ''"] + body + [
                'SET SESSION sql_mode = DEFAULT'], None
        if kind == 'geometry':
            ts = [t for t in self.tables if t.col('pt')]
            if not ts:
                return [self.dml()], None
            t = r.choice(ts)
            pk = t.pk[0] if t.pk else 'n'
            kv = self.keyval(t, t.col(pk)) if t.pk else '1'
            return ["SET SESSION sql_mode = ''",
                    'INSERT IGNORE INTO `%s` (`%s`) VALUES (%s)' % (t.name, pk, kv),
                    'SET SESSION sql_mode = DEFAULT'], None
        if kind == 'big':
            return self.bigtxn(), None
        if kind == 'swap':
            ts = [t for t in self.tables if 'u' in [c.name for c in t.cols] and t.pk]
            if not ts:
                return [self.dml()], None
            return self.swap_unique(r.choice(ts)), None
        if kind == 'reuse':
            ts = [t for t in self.tables if 'u' in [c.name for c in t.cols] and t.pk]
            if not ts:
                return [self.dml()], None
            return self.unique_reuse(r.choice(ts)), None
        if kind == 'seq':
            s = r.choice(self.sequences)
            ts = [t for t in self.tables if t.col('n')]
            opts = ['SELECT NEXTVAL(`%s`)' % s,
                    'SELECT SETVAL(`%s`, %d)' % (s, r.randint(1, 10000)),
                    'ALTER SEQUENCE `%s` RESTART WITH %d' % (s, r.randint(1, 50))]
            if ts:
                opts.append('UPDATE `%s` SET n = NEXT VALUE FOR `%s` LIMIT 1' % (
                    r.choice(ts).name, s))
            return [r.choice(opts)], None
        if kind == 'parentdel':
            ps = [x.parent[0] for x in self.tables if x.parent
                  and x.parent[0] in self.tables]
            if not ps:
                return [self.dml()], None
            p = r.choice(ps)
            pk = p.pk[0]
            c = p.col(pk)
            if r.random() < 0.5:
                body = ['DELETE FROM `%s` WHERE `%s` = %s' % (p.name, pk,
                                                              self.keyval(p, c))]
            else:
                body = ['UPDATE `%s` SET `%s` = %s WHERE `%s` = %s' % (
                    p.name, pk, self.keyval(p, c), pk, self.keyval(p, c))]
            if r.random() < 0.6:
                return ['BEGIN', self.dml(p)] + body + [self.dml(), 'COMMIT'], None
            return body, None
        return [self.dml()], None

    def seed_rows(self):
        """A few multi-row inserts per table: initial data."""
        units = []
        for t in list(self.tables):
            cols = self.ins_cols(t)
            rows = ', '.join(self.row(t, cols) for _ in range(self.rng.randint(3, 8)))
            units.append(['INSERT IGNORE INTO `%s` (%s) VALUES %s' % (
                t.name, ', '.join('`%s`' % c.name for c in cols), rows)])
        return units
