package regs

import (
	"bytes"
	"strconv"
)

// TargetXML returns the target description for the layout, the document
// gdb reads as qXfer:features:read:target.xml. It is self-contained (no
// xi:include, so one transfer suffices) and gives every register an
// explicit regnum, which makes the g-packet order independent of how the
// client walks the document.
//
// The document is built once per Layout; callers must not modify it.
func (l *Layout) TargetXML() []byte {
	l.tdescOnce.Do(func() { l.tdesc = buildTargetXML(l) })
	return l.tdesc
}

// buildTargetXML writes the description of the layout's registers,
// grouped into their features in table order.
func buildTargetXML(l *Layout) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?>
<!DOCTYPE target SYSTEM "gdb-target.dtd">
<target version="1.0">
  <architecture>i386:x86-64</architecture>
  <osabi>GNU/Linux</osabi>
`)
	feature := ""
	for i := range l.NumRegs() {
		r := l.row(i)
		if r.feature != feature {
			if feature != "" {
				b.WriteString("  </feature>\n")
			}
			feature = r.feature
			b.WriteString(`  <feature name="` + feature + "\">\n")
			b.WriteString(featureTypes(feature))
		}
		b.WriteString(`    <reg name="` + r.name +
			`" bitsize="` + strconv.Itoa(r.bits) +
			`" type="` + r.typ +
			`" regnum="` + strconv.Itoa(i) + `"`)
		if r.group != "" {
			b.WriteString(` group="` + r.group + `"`)
		}
		if r.typ == "v2ui128" {
			// lldb takes a register of a type it does not know
			// for an integer, and cannot hold one of 256 bits;
			// its own attributes say what it is (gdb ignores
			// attributes it does not know).
			b.WriteString(` encoding="vector" format="vector-uint8"`)
		}
		b.WriteString("/>\n")
	}
	b.WriteString("  </feature>\n</target>\n")
	return b.Bytes()
}

// featureTypes returns the type definitions a feature's registers use
// beyond gdb's predefined types (int64, code_ptr, i387_ext, uint128, ...).
// The flag names are the bits' names in the SDM; gdb prints the set ones,
// as in "[ IF ZF ]".
func featureTypes(feature string) string {
	switch feature {
	case featureCore:
		// RFLAGS (SDM Vol. 1 §3.4.3). Bit 1 is reserved and always
		// set; it is listed unnamed so that gdb knows the bit but does
		// not print it.
		return `    <flags id="i386_eflags" size="4">
      <field name="CF" start="0" end="0"/>
      <field name="" start="1" end="1"/>
      <field name="PF" start="2" end="2"/>
      <field name="AF" start="4" end="4"/>
      <field name="ZF" start="6" end="6"/>
      <field name="SF" start="7" end="7"/>
      <field name="TF" start="8" end="8"/>
      <field name="IF" start="9" end="9"/>
      <field name="DF" start="10" end="10"/>
      <field name="OF" start="11" end="11"/>
      <field name="NT" start="14" end="14"/>
      <field name="RF" start="16" end="16"/>
      <field name="VM" start="17" end="17"/>
      <field name="AC" start="18" end="18"/>
      <field name="VIF" start="19" end="19"/>
      <field name="VIP" start="20" end="20"/>
      <field name="ID" start="21" end="21"/>
    </flags>
`
	case featureSSE:
		// MXCSR (SDM Vol. 1 §10.2.3): exception flags, DAZ, masks, FZ;
		// the rounding control (bits 13-14) is a number, not a flag.
		return vec128Type + `    <flags id="i386_mxcsr" size="4">
      <field name="IE" start="0" end="0"/>
      <field name="DE" start="1" end="1"/>
      <field name="ZE" start="2" end="2"/>
      <field name="OE" start="3" end="3"/>
      <field name="UE" start="4" end="4"/>
      <field name="PE" start="5" end="5"/>
      <field name="DAZ" start="6" end="6"/>
      <field name="IM" start="7" end="7"/>
      <field name="DM" start="8" end="8"/>
      <field name="ZM" start="9" end="9"/>
      <field name="OM" start="10" end="10"/>
      <field name="UM" start="11" end="11"/>
      <field name="PM" start="12" end="12"/>
      <field name="FZ" start="15" end="15"/>
    </flags>
`
	case featureAVX512:
		// Types are a feature's own: xmm16-xmm31 get the union of
		// xmm0-xmm15, and the upper halves of zmm are two uint128, as
		// in gdb's own feature.
		return vec128Type + `    <vector id="v2ui128" type="uint128" count="2"/>
`
	}
	return ""
}

// vec128Type is an XMM register seen as each of its packed types. The
// union and field names are the ones gdb users type ($xmm0.v4_float).
const vec128Type = `    <vector id="v4f" type="ieee_single" count="4"/>
    <vector id="v2d" type="ieee_double" count="2"/>
    <vector id="v16i8" type="int8" count="16"/>
    <vector id="v8i16" type="int16" count="8"/>
    <vector id="v4i32" type="int32" count="4"/>
    <vector id="v2i64" type="int64" count="2"/>
    <union id="vec128">
      <field name="v4_float" type="v4f"/>
      <field name="v2_double" type="v2d"/>
      <field name="v16_int8" type="v16i8"/>
      <field name="v8_int16" type="v8i16"/>
      <field name="v4_int32" type="v4i32"/>
      <field name="v2_int64" type="v2i64"/>
      <field name="uint128" type="uint128"/>
    </union>
`
