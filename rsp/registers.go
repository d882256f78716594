package rsp

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"procgdb/inferior"
	"procgdb/regs"
)

// Register packets, per the manual's "Packets" section: "g" reads every
// register of the general thread (Hg) in hex, in the target description's
// order, "G XX..." writes them, "p n" reads register n and "P n=r..."
// writes it. The bytes and their order are regs' business; this file only
// moves them between the wire and the target.
//
// lldb adds qRegisterInfoN, which describes register N, and
// QSaveRegisterState and QRestoreRegisterState:ID, which save a thread's
// registers in the stub and give them back. lldb may end g, G, p, P and
// the last two with a thread suffix (withThread).

// registerPackets are the dispatch-table rows of the register packets,
// gdb's and lldb's.
func registerPackets() []entry {
	return []entry{
		{prefix: "g", handle: withThread((*Session).readRegisters)},
		{prefix: "G", handle: withThread((*Session).writeRegisters)},
		{prefix: "p", handle: withThread((*Session).readRegister)},
		{prefix: "P", handle: withThread((*Session).writeRegister)},
		{prefix: "qRegisterInfo", anyArgs: true, handle: (*Session).registerInfo},
		{prefix: "QSaveRegisterState", handle: withThread((*Session).saveRegisterState)},
		{prefix: "QRestoreRegisterState:", handle: withThread((*Session).restoreRegisterState)},
	}
}

// regWrite is a P request.
type regWrite struct {
	n    int
	data []byte
}

// parseRegRead decodes p's register number.
func parseRegRead(b []byte) (int, error) {
	n, err := parseHexInt(b)
	if err != nil {
		return 0, fmt.Errorf("register %q: %w", b, err)
	}
	return n, nil
}

// parseRegWrite decodes P's "n=XX...".
func parseRegWrite(b []byte) (regWrite, error) {
	num, val, ok := bytes.Cut(b, []byte("="))
	if !ok {
		return regWrite{}, fmt.Errorf("%q: missing '=value': %w", b, errMalformed)
	}
	n, err := parseRegRead(num)
	if err != nil {
		return regWrite{}, err
	}
	data, err := decodeHex(make([]byte, 0, len(val)/2), val)
	if err != nil {
		return regWrite{}, fmt.Errorf("value %q: %w", val, err)
	}
	return regWrite{n: n, data: data}, nil
}

// appendRegWrite encodes w as parseRegWrite decodes it.
func appendRegWrite(dst []byte, w regWrite) []byte {
	dst = append(appendHexUint(dst, uint64(w.n)), '=')
	return appendHex(dst, w.data)
}

// registers returns the registers of the thread a packet applies to: sel
// (see withThread), or the thread the stub picks when sel allows any.
func (s *Session) registers(sel inferior.ThreadID, ext bool) (inferior.ThreadID, *regs.Set, error) {
	t, err := s.pickThread(sel)
	if err != nil {
		return t, nil, err
	}
	rs, err := s.t.Registers(t, ext)
	if err != nil {
		return t, nil, fmt.Errorf("registers of %s: %w", s.formatThread(t), err)
	}
	return t, rs, nil
}

// readRegisters answers g with every register, the XSAVE ones included.
func (s *Session) readRegisters(sel inferior.ThreadID, args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	_, rs, err := s.registers(sel, true)
	if err != nil {
		return errorReply(err)
	}
	s.mem = rs.AppendG(s.mem[:0])
	s.buf = appendHex(s.buf[:0], s.mem)
	return dataReply(s.buf)
}

// writeRegisters answers G.
func (s *Session) writeRegisters(sel inferior.ThreadID, args []byte) reply {
	data, err := decodeHex(s.mem[:0], args)
	if err != nil {
		return errorReply(fmt.Errorf("registers: %w", err))
	}
	s.mem = data
	t, rs, err := s.registers(sel, true)
	if err != nil {
		return errorReply(err)
	}
	if err := rs.SetG(data); err != nil {
		return errorReply(err)
	}
	return s.storeRegisters(t, rs)
}

// readRegister answers p.
func (s *Session) readRegister(sel inferior.ThreadID, args []byte) reply {
	n, err := parseRegRead(args)
	if err != nil {
		return errorReply(err)
	}
	_, rs, err := s.registers(sel, regs.NeedsXSave(n))
	if err != nil {
		return errorReply(err)
	}
	if s.mem, err = rs.AppendRegister(s.mem[:0], n); err != nil {
		return errorReply(err)
	}
	s.buf = appendHex(s.buf[:0], s.mem)
	return dataReply(s.buf)
}

// writeRegister answers P.
func (s *Session) writeRegister(sel inferior.ThreadID, args []byte) reply {
	w, err := parseRegWrite(args)
	if err != nil {
		return errorReply(err)
	}
	t, rs, err := s.registers(sel, regs.NeedsXSave(w.n))
	if err != nil {
		return errorReply(err)
	}
	if info, ok := rs.Layout.Info(w.n); ok && info.Size() != len(w.data) {
		// A value of the wrong size is the client's mistake, not the
		// target's failure: say so with the code for malformed requests.
		return errorReply(fmt.Errorf("register %d: %d bytes, want %d: %w", w.n, len(w.data), info.Size(), errMalformed))
	}
	if err := rs.SetRegister(w.n, w.data); err != nil {
		return errorReply(err)
	}
	return s.storeRegisters(t, rs)
}

// storeRegisters hands a changed register set back to the target.
func (s *Session) storeRegisters(t inferior.ThreadID, rs *regs.Set) reply {
	if err := s.t.SetRegisters(t, rs); err != nil {
		return errorReply(fmt.Errorf("set registers of %s: %w", s.formatThread(t), err))
	}
	return okReply
}

// registerInfo answers qRegisterInfoN from the register table; see
// regs.Layout.LLDBRegisterInfo.
func (s *Session) registerInfo(args []byte) reply {
	n, err := parseHexInt(args)
	if err != nil {
		return errorReply(fmt.Errorf("register %q: %w", args, err))
	}
	layout := s.layout()
	desc, ok := layout.LLDBRegisterInfo(n)
	if !ok {
		return errorReply(fmt.Errorf("register %d: %w", n, errBadAnnex))
	}
	return textReply(desc)
}

// layout returns the register layout of the current thread, or nil (the
// registers every x86-64 has) when there is no thread to ask.
func (s *Session) layout() *regs.Layout {
	if _, rs, err := s.registers(s.general, false); err == nil {
		return rs.Layout
	}
	return nil
}

// registerSaves are the snapshots QSaveRegisterState took, by id; last is
// the last id handed out.
type registerSaves struct {
	byID map[uint64]savedRegisters
	last uint64
}

// savedRegisters is one QSaveRegisterState snapshot.
type savedRegisters struct {
	thread inferior.ThreadID
	set    regs.Set
}

// maxSavedRegisters bounds the snapshots a client may leave unrestored.
const maxSavedRegisters = 64

// saveRegisterState answers QSaveRegisterState with the id of a snapshot
// of the thread's registers, in decimal.
func (s *Session) saveRegisterState(sel inferior.ThreadID, args []byte) reply {
	if err := noArgs(args); err != nil {
		return errorReply(err)
	}
	t, rs, err := s.registers(sel, true)
	if err != nil {
		return errorReply(err)
	}
	if s.saves.byID == nil {
		s.saves.byID = map[uint64]savedRegisters{}
	}
	if len(s.saves.byID) >= maxSavedRegisters {
		return errorReply(fmt.Errorf("%d register states saved and not restored: %w", len(s.saves.byID), errUnsupported))
	}
	s.saves.last++
	snap := savedRegisters{thread: t, set: *rs}
	snap.set.XSave = slices.Clone(rs.XSave)
	s.saves.byID[s.saves.last] = snap
	return textReply(strconv.FormatUint(s.saves.last, 10))
}

// restoreRegisterState answers QRestoreRegisterState:ID, giving the
// thread the registers of snapshot ID, which is then forgotten.
func (s *Session) restoreRegisterState(sel inferior.ThreadID, args []byte) reply {
	id, err := strconv.ParseUint(string(args), 10, 64)
	if err != nil {
		return errorReply(fmt.Errorf("save id %q: %w", args, errMalformed))
	}
	snap, ok := s.saves.byID[id]
	if !ok {
		return errorReply(fmt.Errorf("save id %d: %w", id, errBadAnnex))
	}
	t, err := s.pickThread(sel)
	if err != nil {
		return errorReply(err)
	}
	delete(s.saves.byID, id)
	set := snap.set
	set.XSave = slices.Clone(snap.set.XSave)
	return s.storeRegisters(t, &set)
}
