//go:build linux

package procdir

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheck(t *testing.T) {
	const (
		alice  = 1000
		bob    = 1001
		hostNS = 4026531837
		childN = 4026532001
		otherN = 4026532002
		ptrace = Caps(1) << 19 // CAP_SYS_PTRACE
		net    = Caps(1) << 13 // CAP_NET_RAW
	)
	same := func(id uint32) IDs { return IDs{id, id, id} }
	// alice's debugger, with no capabilities, in the host's namespace.
	user := Peer{PID: 100, UID: alice, GID: alice, EUID: alice, UserNS: hostNS}
	admin := user
	admin.CapEff, admin.CapPrm = ptrace, ptrace
	// alice's program, a child of her shell (50), itself a child of 1.
	mine := Target{PID: 200, UID: same(alice), GID: same(alice), UserNS: []UserNS{{hostNS, 0}}, Ancestors: []int{50, 1}}
	with := func(change func(*Target)) Target {
		t := mine
		t.UserNS = append([]UserNS(nil), mine.UserNS...)
		change(&t)
		return t
	}
	inChild := func(owner uint32) func(*Target) {
		return func(t *Target) { t.UserNS = []UserNS{{childN, owner}, {hostNS, 0}} }
	}
	tests := []struct {
		name   string
		peer   Peer
		target Target
		scope  Yama
		want   string // the refusal; "" for allowed
	}{
		{"own process", user, mine, YamaAbsent, ""},
		{"own process, Yama 0", user, mine, YamaClassic, ""},
		{"kernel thread", admin, with(func(t *Target) { t.Kernel = true }), YamaAbsent, "process 200 is a kernel thread"},
		{"itself", admin, with(func(t *Target) { t.PID = 100 }), YamaAbsent, "process 100 cannot debug itself"},
		{"another user's", user, with(func(t *Target) { t.UID = same(bob) }), YamaAbsent, "process 200 belongs to another user"},
		{"another user's, CAP_SYS_PTRACE", admin, with(func(t *Target) { t.UID, t.GID = same(bob), same(bob) }), YamaAbsent, ""},
		{"other capabilities are not CAP_SYS_PTRACE", Peer{PID: 100, UID: alice, GID: alice, EUID: alice, UserNS: hostNS, CapEff: ^ptrace, CapPrm: ^ptrace},
			with(func(t *Target) { t.UID = same(bob) }), YamaAbsent, "process 200 belongs to another user"},
		{"set-user-ID program she ran", user, with(func(t *Target) { t.UID = IDs{alice, 0, 0} }), YamaAbsent,
			"process 200 runs with another user's privileges (uids 1000/0/0)"},
		{"saved uid differs", user, with(func(t *Target) { t.UID.Saved = 0 }), YamaAbsent,
			"process 200 runs with another user's privileges (uids 1000/1000/0)"},
		{"set-group-ID program", user, with(func(t *Target) { t.GID = IDs{alice, 5, 5} }), YamaAbsent,
			"process 200 runs with another group's privileges (gids 1000/5/5)"},
		{"not dumpable", user, with(func(t *Target) { t.Dumpable = DumpableNo }), YamaAbsent, "process 200 is not dumpable"},
		{"not dumpable, CAP_SYS_PTRACE", admin, with(func(t *Target) { t.Dumpable = DumpableNo }), YamaAbsent, ""},
		{"root's, dumpable unknown", Peer{PID: 100, UserNS: hostNS, CapPrm: ^ptrace, CapEff: ^ptrace},
			with(func(t *Target) { t.UID, t.GID, t.Dumpable = same(0), same(0), DumpableUnknown }), YamaAbsent,
			"process 200 runs as root and /proc does not show whether it is dumpable: only CAP_SYS_PTRACE may debug it here"},
		{"root's, dumpable unknown, CAP_SYS_PTRACE", Peer{PID: 100, UserNS: hostNS, CapPrm: ^Caps(0), CapEff: ^Caps(0)},
			with(func(t *Target) { t.UID, t.GID, t.Dumpable = same(0), same(0), DumpableUnknown }), YamaAbsent, ""},
		{"capabilities she lacks", user, with(func(t *Target) { t.CapPrm = net }), YamaAbsent,
			"process 200 has capabilities your debugger lacks (CapPrm 0x2000)"},
		{"capabilities she has too", Peer{PID: 100, UID: alice, GID: alice, EUID: alice, UserNS: hostNS, CapPrm: net},
			with(func(t *Target) { t.CapPrm = net }), YamaAbsent, ""},
		{"capabilities, CAP_SYS_PTRACE", admin, with(func(t *Target) { t.CapPrm = ^Caps(0) }), YamaAbsent, ""},
		{"a namespace she created", user, with(inChild(alice)), YamaAbsent, ""},
		{"a namespace she created, another uid in it", user, with(func(t *Target) {
			inChild(alice)(t)
			t.UID, t.GID, t.CapPrm = same(bob), same(bob), ^Caps(0)
		}), YamaAbsent, ""},
		{"a namespace bob created", user, with(inChild(bob)), YamaAbsent, "process 200 runs in another user namespace"},
		{"a namespace bob created, CAP_SYS_PTRACE above it", admin, with(func(t *Target) {
			inChild(bob)(t)
			t.UID = same(bob)
		}), YamaAbsent, ""},
		{"a sibling namespace", admin, with(func(t *Target) { t.UserNS = []UserNS{{otherN, alice}, {childN, alice}} }), YamaAbsent,
			"process 200 runs in another user namespace"},
		{"CAP_SYS_PTRACE in a child namespace does not reach up", Peer{PID: 100, UID: alice, GID: alice, EUID: alice, UserNS: childN, CapEff: ptrace, CapPrm: ptrace},
			with(func(t *Target) { t.UID = same(bob) }), YamaAbsent, "process 200 belongs to another user"},
		{"Yama 1, a descendant", Peer{PID: 50, UID: alice, GID: alice, EUID: alice, UserNS: hostNS}, mine, YamaRelational, ""},
		{"Yama 1, not a descendant", user, mine, YamaRelational,
			"Yama ptrace_scope=1 lets only a process's ancestors and CAP_SYS_PTRACE debug it, and process 200 does not descend from yours (100); procgdb cannot see PR_SET_PTRACER exceptions"},
		{"Yama 1, CAP_SYS_PTRACE", admin, mine, YamaRelational, ""},
		{"Yama 1, a descendant of another user", Peer{PID: 50, UID: alice, GID: alice, EUID: alice, UserNS: hostNS},
			with(func(t *Target) { t.UID = same(bob) }), YamaRelational, "process 200 belongs to another user"},
		{"Yama 2", Peer{PID: 50, UID: alice, GID: alice, EUID: alice, UserNS: hostNS}, mine, YamaAdmin, "Yama ptrace_scope=2 allows only CAP_SYS_PTRACE"},
		{"Yama 2, CAP_SYS_PTRACE", admin, mine, YamaAdmin, ""},
		{"Yama 2, CAP_SYS_PTRACE by owning the namespace", user, with(inChild(alice)), YamaAdmin, ""},
		{"Yama 3", admin, mine, YamaNone, "Yama ptrace_scope=3 allows no process to be debugged"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.peer, tc.target, tc.scope)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			var r *Refusal
			require.True(t, errors.As(err, &r))
			assert.Equal(t, tc.target.PID, r.PID)
		})
	}
}
