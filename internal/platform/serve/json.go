package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// jsonCodec is Connect's JSON codec, but refusing enum values given by a
// name the enum does not define ("sort": "PRODUCT_SORT_HACK"). Connect's own
// decodes with protojson's DiscardUnknown, which drops such a value along
// with unknown fields, so the field silently keeps its default (a default
// sort, a status filter that lists everything). Unknown fields are still
// ignored, so that clients newer than the server keep working. Numbers an
// enum does not define are refused by protovalidate (enum.defined_only on
// every enum field), with field violations.
type jsonCodec struct{ name string }

// JSONNames are the names Connect gives its JSON codec.
var JSONNames = []string{"json", "json; charset=utf-8"}

// JSONCodecs replace Connect's JSON codecs (both of its names).
func JSONCodecs() []connect.HandlerOption {
	opts := make([]connect.HandlerOption, len(JSONNames))
	for i, name := range JSONNames {
		opts[i] = connect.WithCodec(JSONCodec(name))
	}
	return opts
}

// JSONCodec is the codec JSONCodecs installs under name, for a service that
// wraps it (the product service remembers its cached answers' encodings).
func JSONCodec(name string) connect.Codec { return jsonCodec{name: name} }

func (c jsonCodec) Name() string { return c.name }

func (jsonCodec) IsBinary() bool { return false }

func (jsonCodec) Marshal(message any) ([]byte, error) {
	m, ok := message.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a protobuf message", message)
	}
	return protojson.MarshalOptions{}.Marshal(m)
}

func (jsonCodec) MarshalAppend(dst []byte, message any) ([]byte, error) {
	m, ok := message.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("%T is not a protobuf message", message)
	}
	return protojson.MarshalOptions{}.MarshalAppend(dst, m)
}

func (jsonCodec) Unmarshal(data []byte, message any) error {
	m, ok := message.(proto.Message)
	if !ok {
		return fmt.Errorf("%T is not a protobuf message", message)
	}
	if len(data) == 0 {
		return errors.New("zero-length payload is not a valid JSON object")
	}
	// Nearly every request decodes strictly: one pass.
	if protojson.Unmarshal(data, m) == nil {
		return nil
	}
	proto.Reset(m)
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return err
	}
	// The strict pass failed on an unknown field or an unknown enum name;
	// only the second is an error.
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	return undefinedEnums(m.ProtoReflect().Descriptor(), doc, "")
}

// undefinedEnums walks the JSON doc of a message md and reports the first
// enum value given by a name its enum does not define.
func undefinedEnums(md protoreflect.MessageDescriptor, doc any, path string) error {
	obj, ok := doc.(map[string]any)
	if !ok || strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil // well-known types have JSON forms of their own
	}
	for key, v := range obj {
		fd := md.Fields().ByJSONName(key)
		if fd == nil {
			fd = md.Fields().ByTextName(key)
		}
		if fd == nil {
			continue // unknown field: ignored
		}
		p := key
		if path != "" {
			p = path + "." + key
		}
		if err := fieldEnums(fd, v, p); err != nil {
			return err
		}
	}
	return nil
}

func fieldEnums(fd protoreflect.FieldDescriptor, v any, path string) error {
	var elems []any
	switch {
	case fd.IsList():
		list, _ := v.([]any)
		elems = list
	case fd.IsMap():
		obj, _ := v.(map[string]any)
		for _, e := range obj {
			elems = append(elems, e)
		}
		fd = fd.MapValue()
	default:
		elems = []any{v}
	}
	for _, e := range elems {
		switch fd.Kind() {
		case protoreflect.EnumKind:
			name, ok := e.(string)
			if ok && fd.Enum().Values().ByName(protoreflect.Name(name)) == nil {
				return fmt.Errorf("%s: %q is not a value of %s", path, name, fd.Enum().FullName())
			}
		case protoreflect.MessageKind, protoreflect.GroupKind:
			if err := undefinedEnums(fd.Message(), e, path); err != nil {
				return err
			}
		}
	}
	return nil
}
