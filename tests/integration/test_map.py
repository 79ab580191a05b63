"""test_map.py: `faxpost map` against Postfix's postmap (the real peer).

Tables built by either tool are read by the other with identical output (-s, -q),
case folding matches, a bad line is reported as FILE:LINE with exit 1, exit codes for
found / not found / usage are postmap's, and a rebuild replaces the table whole.
"""
import os
import shutil
import tempfile
import unittest

import fixture

POSTMAP = shutil.which("postmap") or "/usr/sbin/postmap"

SOURCE = """# demo access table
reject.example    REJECT demo rejection
192.0.2.7\tREJECT listed client
Friend.Example    OK

fax-admin alice,
   bob@example.com,
\tcarol
"""


class MapTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_map.")
        self.etc = os.path.join(self.dir, "etc")
        self.pfx = os.path.join(self.dir, "pfx")
        os.makedirs(self.etc)
        os.makedirs(self.pfx)
        open(os.path.join(self.etc, "main.cf"), "w").close()
        open(os.path.join(self.pfx, "main.cf"), "w").close()
        self.src = os.path.join(self.dir, "access")
        with open(self.src, "w") as f:
            f.write(SOURCE)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def faxpost(self, *args, input=None):
        return fixture.run([fixture.FAXPOST, "-c", self.etc, "map"] + list(args),
                           input=input, timeout=30)

    def postmap(self, *args, input=None):
        return fixture.run([POSTMAP, "-c", self.pfx] + list(args), input=input, timeout=30)

    def dump_sorted(self, out):
        return sorted(out.splitlines())

    @unittest.skipUnless(os.path.exists(POSTMAP), "postmap not installed")
    def test_ours_read_by_postmap(self):
        r = self.faxpost(self.src)
        self.assertEqual(r.returncode, 0, r.stderr)
        ours = self.faxpost("-s", self.src)
        theirs = self.postmap("-s", "hash:" + self.src)
        self.assertEqual(theirs.returncode, 0, theirs.stderr)
        self.assertEqual(self.dump_sorted(ours.stdout), self.dump_sorted(theirs.stdout))
        self.assertEqual(len(ours.stdout.splitlines()), 4)
        q = self.postmap("-q", "FRIEND.example", "hash:" + self.src)
        self.assertEqual(q.stdout, "OK\n")

    @unittest.skipUnless(os.path.exists(POSTMAP), "postmap not installed")
    def test_postmap_read_by_ours(self):
        r = self.postmap("hash:" + self.src)
        self.assertEqual(r.returncode, 0, r.stderr)
        for key in ("reject.example", "REJECT.Example", "192.0.2.7", "fax-admin", "nosuch"):
            ours = self.faxpost("-q", key, self.src)
            theirs = self.postmap("-q", key, "hash:" + self.src)
            self.assertEqual((ours.returncode, ours.stdout), (theirs.returncode, theirs.stdout),
                             key)
        ours = self.faxpost("-q", "-", self.src, input="friend.example\nnosuch\nfax-admin\n")
        theirs = self.postmap("-q", "-", "hash:" + self.src,
                              input="friend.example\nnosuch\nfax-admin\n")
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertEqual(ours.returncode, 0)

    def test_bad_line_and_codes(self):
        with open(self.src, "a") as f:
            f.write("lonelykey\n")
        r = self.faxpost(self.src)
        self.assertEqual(r.returncode, 1)
        self.assertIn("access:9:", r.stderr)
        self.assertFalse(os.path.exists(self.src + ".db"))
        self.assertEqual(self.faxpost("-q", "x", self.src).returncode, 1)   # no table
        self.assertEqual(self.faxpost().returncode, 2)                      # usage
        self.assertEqual(self.faxpost("-q", "k", "-s", self.src).returncode, 2)
        self.assertEqual(self.faxpost("--help").returncode, 0)

    def test_rebuild_replaces(self):
        self.assertEqual(self.faxpost(self.src).returncode, 0)
        ino = os.stat(self.src + ".db").st_ino
        with open(self.src, "w") as f:
            f.write("only one\n")
        self.assertEqual(self.faxpost("hash:" + self.src).returncode, 0)
        self.assertNotEqual(os.stat(self.src + ".db").st_ino, ino)
        self.assertEqual(self.faxpost("-s", self.src).stdout, "only\tone\n")
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp." in n], [])

    def test_case_sensitive(self):
        with open(self.src, "w") as f:
            f.write("Fax-Admin alice\n")
        self.assertEqual(self.faxpost("-f", self.src).returncode, 0)
        self.assertEqual(self.faxpost("-f", "-q", "Fax-Admin", self.src).stdout, "alice\n")
        self.assertEqual(self.faxpost("-f", "-q", "fax-admin", self.src).returncode, 1)


if __name__ == "__main__":
    unittest.main()
