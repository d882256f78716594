package target

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestShellWord: each word shellWord writes is read back by real shells
// as the string it was made from, with nothing expanded or run.
func TestShellWord(t *testing.T) {
	words := []string{
		"", "plain", "two words", " ", "\t", "tab\there", "new\nline", "\n", "\n\n",
		"'", "it's", `"`, `c"d`, `\`, `\\`, `back\slash`, `\'`, `'\''`,
		"$HOME", "${HOME}", "$(id > F)", "`id > F`", "$((1+1))", "*", "?", "[a]", "{a,b}", "~", "~root",
		"#comment", "a;b", "a&b", "a|b", "a>b", "a<b", "(a)", "!1", "^", "a=b", "-c", "--", "%1",
		"\x01\x7f\xff", "é", strings.Repeat("'\"$`\\\n ", 3),
	}
	var all strings.Builder
	for c := 1; c < 256; c++ {
		words = append(words, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
		all.WriteByte(byte(c))
	}
	words = append(words, all.String())
	for _, shell := range []string{"/bin/sh", "bash", "dash"} {
		path, err := exec.LookPath(shell)
		if err != nil {
			continue
		}
		var cmd strings.Builder
		cmd.WriteString(`printf '%s\0'`)
		for _, w := range words {
			cmd.WriteString(" " + shellWord(w))
		}
		dir := t.TempDir()
		c := exec.Command(path, "-c", cmd.String())
		c.Dir = dir
		out, err := c.Output()
		if err != nil {
			t.Fatalf("%s: %v", shell, err)
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if len(got) != len(words) {
			t.Fatalf("%s read %d words, want %d: %q", shell, len(got), len(words), got)
		}
		for i, w := range words {
			if got[i] != w {
				t.Errorf("%s read %q as %q (written %q)", shell, w, got[i], shellWord(w))
			}
		}
		if ents, _ := os.ReadDir(dir); len(ents) > 0 {
			t.Errorf("%s created files: %v", shell, ents)
		}
	}
}
