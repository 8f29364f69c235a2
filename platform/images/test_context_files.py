"""context_files.py against BuildKit's documented .dockerignore rules.

Run: python3 -m unittest discover -s platform/images -p 'test_*.py'
"""

import os
import shutil
import tempfile
import unittest

from context_files import context_files, excluded, may_reinclude, read_patterns


def tree(test, files, dockerignore=None):
    """A build context in a temporary folder, removed when the test ends."""
    root = tempfile.mkdtemp()
    test.addCleanup(shutil.rmtree, root)
    for f in files:
        os.makedirs(os.path.dirname(os.path.join(root, f)) or root, exist_ok=True)
        with open(os.path.join(root, f), "w") as out:
            out.write(f)
    if dockerignore is not None:
        with open(os.path.join(root, ".dockerignore"), "w") as out:
            out.write(dockerignore)
    return root


def ignored(path, text):
    return excluded(path, read_patterns(text))


class Rules(unittest.TestCase):
    def test_the_skeletons_allow_list_keeps_only_the_requirements_and_the_app(self):
        text = "*\n!requirements.txt\n!app/\n**/__pycache__\n**/*.pyc\n"
        self.assertFalse(ignored("requirements.txt", text))
        self.assertFalse(ignored("app/main.py", text))
        self.assertFalse(ignored("app/core/health.py", text))
        self.assertTrue(ignored("tests/test_core.py", text))
        self.assertTrue(ignored("k8s/deployment.yaml", text))
        self.assertTrue(ignored("app/__pycache__/main.cpython-311.pyc", text))
        self.assertTrue(ignored("app/core/x.pyc", text))

    def test_a_pattern_excludes_everything_under_a_matching_folder(self):
        self.assertTrue(ignored("docs/a/b.md", "docs"))
        self.assertTrue(ignored("docs/a/b.md", "/docs/"))
        self.assertFalse(ignored("app/docs.py", "docs"))

    def test_star_and_question_mark_stop_at_a_slash(self):
        self.assertTrue(ignored("a.md", "*.md"))
        self.assertFalse(ignored("docs/a.md", "*.md"))
        self.assertTrue(ignored("docs/a.md", "*/*.md"))
        self.assertTrue(ignored("v1.txt", "v?.txt"))
        self.assertFalse(ignored("v/.txt", "v?.txt"))

    def test_double_star_spans_zero_or_more_folders(self):
        self.assertTrue(ignored("a.md", "**/*.md"))
        self.assertTrue(ignored("x/y/a.md", "**/*.md"))
        self.assertTrue(ignored("x/y/z", "x/**"))

    def test_the_last_matching_pattern_wins(self):
        self.assertFalse(ignored("keep.md", "*.md\n!keep.md"))
        self.assertTrue(ignored("keep.md", "*.md\n!keep.md\nkeep.md"))

    def test_character_classes_and_comments(self):
        self.assertTrue(ignored("a1", "a[0-9]"))
        self.assertFalse(ignored("ab", "a[0-9]"))
        self.assertTrue(ignored("ab", "a[!0-9]"))
        self.assertFalse(ignored("# not a pattern", "# not a pattern"))


class ContextFiles(unittest.TestCase):
    def test_without_a_dockerignore_every_file_counts(self):
        root = tree(self, ["Dockerfile", "app/main.py", "tests/t.py"])
        self.assertEqual(context_files(root), ["Dockerfile", "app/main.py", "tests/t.py"])

    def test_a_change_outside_the_build_does_not_change_the_list(self):
        root = tree(self, ["Dockerfile", "requirements.txt", "app/main.py", "tests/t.py"], "*\n!requirements.txt\n!app/\n")
        self.assertEqual(context_files(root), ["app/main.py", "requirements.txt"])

    def test_an_unreadable_pattern_counts_every_file(self):
        # An unterminated class: reading it wrong could drop a file the build copies.
        root = tree(self, ["Dockerfile", "app/main.py"], "*\n!app/[\n")
        self.assertEqual(context_files(root), [".dockerignore", "Dockerfile", "app/main.py"])

    def test_a_file_re_included_inside_an_excluded_folder_is_found(self):
        # The repository root's shape: whole folders out, one file of them back in.
        text = "tools\n!tools/techdocs/requirements.txt\ntests/*/*\n!tests/*/package.json\n**/node_modules\n"
        root = tree(
            self,
            [
                "tools/techdocs/requirements.txt",
                "tools/techdocs/check.py",
                "tools/other/x.py",
                "tests/templates/package.json",
                "tests/templates/src/a.test.ts",
                "packages/app/node_modules/react/index.js",
                "packages/app/src/App.tsx",
            ],
            text,
        )
        self.assertEqual(
            context_files(root),
            [".dockerignore", "packages/app/src/App.tsx", "tests/templates/package.json", "tools/techdocs/requirements.txt"],
        )


class Pruning(unittest.TestCase):
    patterns = read_patterns("tools\n!tools/techdocs/requirements.txt\n**/node_modules\n.git\n!**/keep.txt\n")

    def test_a_folder_no_negation_reaches_is_not_walked(self):
        self.assertFalse(may_reinclude("tools/other", read_patterns("tools\n!tools/techdocs/requirements.txt\n")))
        self.assertFalse(may_reinclude("node_modules", read_patterns("**/node_modules\n!app/keep.txt\n")))

    def test_a_folder_a_negation_may_reach_is_walked(self):
        self.assertTrue(may_reinclude("tools", read_patterns("tools\n!tools/techdocs/requirements.txt\n")))
        self.assertTrue(may_reinclude("tools/techdocs", read_patterns("tools\n!tools/techdocs/requirements.txt\n")))
        # `**` may reach anything, a short negation re-includes the whole folder.
        self.assertTrue(may_reinclude("node_modules/x", self.patterns))
        self.assertTrue(may_reinclude("a/b/c", read_patterns("a\n!a\n")))


if __name__ == "__main__":
    unittest.main()
