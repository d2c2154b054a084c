package main

import (
	"strings"
	"testing"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// TestEveryEnumFieldRefusesUndefinedValues walks every message of every
// Emporium proto linked into the binary: an enum field that would take a
// number its enum does not define (a mistyped status filter listing
// everything) fails here. Names the enum does not define are refused by
// the services' JSON codec (serve.JSONCodecs).
func TestEveryEnumFieldRefusesUndefinedValues(t *testing.T) {
	t.Parallel()
	var checked int
	var walk func(md protoreflect.MessageDescriptor)
	walk = func(md protoreflect.MessageDescriptor) {
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			target := fd
			if fd.IsMap() {
				target = fd.MapValue()
			}
			if target.Kind() != protoreflect.EnumKind {
				continue
			}
			checked++
			rules, _ := proto.GetExtension(fd.Options(), validate.E_Field).(*validate.FieldRules)
			var enum *validate.EnumRules
			switch {
			case fd.IsList():
				enum = rules.GetRepeated().GetItems().GetEnum()
			case fd.IsMap():
				enum = rules.GetMap().GetValues().GetEnum()
			default:
				enum = rules.GetEnum()
			}
			if !enum.GetDefinedOnly() && len(enum.GetIn()) == 0 {
				t.Errorf("%s: enum field without (buf.validate.field) enum.defined_only (or an in list)", fd.FullName())
			}
		}
		for i := range md.Messages().Len() {
			walk(md.Messages().Get(i))
		}
	}
	protoregistry.GlobalFiles.RangeFiles(func(f protoreflect.FileDescriptor) bool {
		if strings.HasPrefix(string(f.Package()), "emporium.") {
			for i := range f.Messages().Len() {
				walk(f.Messages().Get(i))
			}
		}
		return true
	})
	if checked < 30 {
		t.Fatalf("checked %d enum fields, want the 30-odd of the Emporium protos", checked)
	}
}
