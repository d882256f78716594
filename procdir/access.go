//go:build linux

package procdir

import (
	"fmt"
	"slices"

	"golang.org/x/sys/unix"
)

// Caps is a set of Linux capabilities, bit n for capability number n,
// as /proc/PID/status shows them in hexadecimal (CapEff, CapPrm).
type Caps uint64

func (c Caps) has(n int) bool { return c&(1<<n) != 0 }

// subsetOf tells whether every capability in c is also in d.
func (c Caps) subsetOf(d Caps) bool { return c&^d == 0 }

// IDs are a process's real, effective and saved user or group ids.
type IDs struct{ Real, Effective, Saved uint32 }

// all tells whether the three ids are id.
func (s IDs) all(id uint32) bool { return s.Real == id && s.Effective == id && s.Saved == id }

func (s IDs) String() string { return fmt.Sprintf("%d/%d/%d", s.Real, s.Effective, s.Saved) }

// UserNS is a user namespace: the inode that names it in nsfs (the
// number in /proc/PID/ns/user's "user:[N]") and the effective uid of the
// process that created it.
type UserNS struct {
	Inode uint64
	Owner uint32
}

// Peer is the process at the other end of a connection, as the kernel
// would see it if it called ptrace(PTRACE_ATTACH) itself.
type Peer struct {
	PID int
	// UID and GID are the real ids: an attach compares them with the
	// target's (PTRACE_MODE_REALCREDS).
	UID, GID uint32
	// EUID owns the user namespaces the peer creates.
	EUID uint32
	// CapEff holds the capabilities in force: CAP_SYS_PTRACE lets the
	// peer past every rule but the kernel thread's and its own.
	CapEff Caps
	// CapPrm bounds what the peer may debug: a target in the peer's user
	// namespace may hold no capability outside it.
	CapPrm Caps
	// UserNS is the inode of the peer's user namespace.
	UserNS uint64
}

// Dumpable is whether a process may be dumped, as PR_GET_DUMPABLE would
// say inside it. Only a peer with CAP_SYS_PTRACE may debug a process
// that is not (the kernel makes set-user-ID programs and processes that
// changed credentials non-dumpable, and programs such as ssh-agent make
// themselves so).
type Dumpable int

const (
	// DumpableYes is SUID_DUMP_USER: the process's owner may debug it.
	DumpableYes Dumpable = iota
	// DumpableNo is anything else.
	DumpableNo
	// DumpableUnknown is a process that runs as its user namespace's
	// root: /proc gives a non-dumpable process's files to that root, so
	// their owner cannot tell the two cases apart (see ReadTarget).
	DumpableUnknown
)

// Target is the process a peer asks to debug.
type Target struct {
	PID int
	// Kernel is set for a kernel thread, which nobody may trace.
	Kernel   bool
	UID, GID IDs
	// CapPrm is the target's permitted capabilities.
	CapPrm   Caps
	Dumpable Dumpable
	// UserNS is the target's user namespace followed by its parent, its
	// parent's parent, and so on up to the reader's own namespace.
	UserNS []UserNS
	// Ancestors are the PIDs of the target's parent, grandparent and so
	// on: under Yama's ptrace_scope 1 a process may debug its
	// descendants.
	Ancestors []int
}

// Yama is the value of /proc/sys/kernel/yama/ptrace_scope.
type Yama int

const (
	// YamaAbsent is a kernel without Yama.
	YamaAbsent Yama = -1
	// YamaClassic (0) adds nothing to the kernel's own rules.
	YamaClassic Yama = 0
	// YamaRelational (1) lets a process be debugged by its ancestors,
	// by a process it named with PR_SET_PTRACER, and by CAP_SYS_PTRACE.
	YamaRelational Yama = 1
	// YamaAdmin (2) lets only CAP_SYS_PTRACE attach.
	YamaAdmin Yama = 2
	// YamaNone (3) lets nobody attach.
	YamaNone Yama = 3
)

// Refusal is a peer that may not debug a process, with the reason in
// words for the person at the debugger.
type Refusal struct {
	PID    int
	Reason string
}

func (r *Refusal) Error() string { return r.Reason }

// Check decides whether peer may debug target as the kernel would decide
// whether peer may PTRACE_ATTACH to it (ptrace_attach and
// __ptrace_may_access in kernel/ptrace.c, cap_ptrace_access_check in
// security/commoncap.c, yama_ptrace_access_check in
// security/yama/yama_lsm.c), in the kernel's order. It returns nil or a
// *Refusal.
//
// Two things the kernel knows are out of reach from /proc and decided
// the safe way: whether the target named the peer with PR_SET_PTRACER
// (under Yama's ptrace_scope 1 such a peer is refused unless it descends
// or has CAP_SYS_PTRACE), and a root process's dumpable flag
// (DumpableUnknown: only CAP_SYS_PTRACE). Other security modules
// (SELinux, AppArmor, Landlock) are not consulted.
func Check(peer Peer, target Target, scope Yama) error {
	pid := target.PID
	refuse := func(format string, a ...any) error {
		return &Refusal{PID: pid, Reason: fmt.Sprintf(format, a...)}
	}
	if target.Kernel {
		return refuse("process %d is a kernel thread", pid)
	}
	if peer.PID == pid {
		return refuse("process %d cannot debug itself", pid)
	}
	capable := peer.capableIn(target.UserNS)
	if !capable {
		switch {
		case !target.UID.all(peer.UID) && target.UID.Real == peer.UID:
			return refuse("process %d runs with another user's privileges (uids %v)", pid, target.UID)
		case !target.UID.all(peer.UID):
			return refuse("process %d belongs to another user", pid)
		case !target.GID.all(peer.GID):
			return refuse("process %d runs with another group's privileges (gids %v)", pid, target.GID)
		case target.Dumpable == DumpableNo:
			return refuse("process %d is not dumpable", pid)
		case target.Dumpable == DumpableUnknown:
			return refuse("process %d runs as root and /proc does not show whether it is dumpable: only CAP_SYS_PTRACE may debug it here", pid)
		case !peer.sameNS(target):
			return refuse("process %d runs in another user namespace", pid)
		case !target.CapPrm.subsetOf(peer.CapPrm):
			return refuse("process %d has capabilities your debugger lacks (CapPrm %#x)", pid, uint64(target.CapPrm&^peer.CapPrm))
		}
	}
	switch {
	case scope <= YamaClassic:
		return nil
	case scope == YamaRelational:
		if capable || slices.Contains(target.Ancestors, peer.PID) {
			return nil
		}
		return refuse("Yama ptrace_scope=1 lets only a process's ancestors and CAP_SYS_PTRACE debug it, and process %d does not descend from yours (%d); procgdb cannot see PR_SET_PTRACER exceptions", pid, peer.PID)
	case scope == YamaAdmin:
		if capable {
			return nil
		}
		return refuse("Yama ptrace_scope=2 allows only CAP_SYS_PTRACE")
	default:
		return refuse("Yama ptrace_scope=%d allows no process to be debugged", scope)
	}
}

// capableIn tells whether the peer has CAP_SYS_PTRACE in the first
// namespace of chain (a namespace followed by its ancestors), as the
// kernel's cap_capable decides: by its effective capabilities in its own
// namespace, and unconditionally in a child namespace its effective uid
// created (and all that namespace's descendants).
func (p Peer) capableIn(chain []UserNS) bool {
	for i, ns := range chain {
		if ns.Inode == p.UserNS {
			return p.CapEff.has(unix.CAP_SYS_PTRACE)
		}
		if i+1 < len(chain) && chain[i+1].Inode == p.UserNS && ns.Owner == p.EUID {
			return true
		}
	}
	return false
}

// sameNS tells whether peer and target share a user namespace.
func (p Peer) sameNS(t Target) bool { return len(t.UserNS) > 0 && t.UserNS[0].Inode == p.UserNS }
