package serve

import (
	"context"
	"errors"
	"strings"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// nulGuard refuses requests with a NUL character in any string, as
// invalid_argument naming the field the way protovalidate's violations do.
// No shopper or operator types a NUL and no column stores one (PostgreSQL
// refuses it in text, and bun's SQLite queries break on it), so without
// this guard a NUL anywhere in a request became an internal error in the
// store.
type nulGuard struct{}

func (nulGuard) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := refuseNUL(req.Any()); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (nulGuard) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (nulGuard) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return next(ctx, &nulCheckedConn{conn})
	}
}

type nulCheckedConn struct{ connect.StreamingHandlerConn }

func (c *nulCheckedConn) Receive(m any) error {
	if err := c.StreamingHandlerConn.Receive(m); err != nil {
		return err
	}
	return refuseNUL(m)
}

func refuseNUL(m any) error {
	msg, ok := m.(proto.Message)
	if !ok {
		return nil
	}
	path := nulField(msg.ProtoReflect(), nil)
	if path == nil {
		return nil
	}
	names := make([]string, len(path))
	for i, el := range path {
		names[i] = el.GetFieldName()
	}
	field := strings.Join(names, ".")
	err := connect.NewError(connect.CodeInvalidArgument, errors.New(field+": must not contain a NUL character"))
	if d, derr := connect.NewErrorDetail(&validate.Violations{Violations: []*validate.Violation{{
		Field:   &validate.FieldPath{Elements: path},
		RuleId:  proto.String("emporium.string.no_nul"),
		Message: proto.String("must not contain a NUL character"),
	}}}); derr == nil {
		err.AddDetail(d)
	}
	return err
}

// nulField is the path to the first string in m (at path) holding a NUL,
// nil when there is none.
func nulField(m protoreflect.Message, path []*validate.FieldPathElement) []*validate.FieldPathElement {
	var found []*validate.FieldPathElement
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		el := func() *validate.FieldPathElement {
			return &validate.FieldPathElement{
				FieldNumber: proto.Int32(int32(fd.Number())),
				FieldName:   proto.String(string(fd.Name())),
				FieldType:   descriptorpb.FieldDescriptorProto_Type(fd.Kind()).Enum(),
			}
		}
		switch {
		case fd.IsList():
			list := v.List()
			for i := range list.Len() {
				e := el()
				e.Subscript = &validate.FieldPathElement_Index{Index: uint64(i)}
				if found = nulValue(fd, list.Get(i), append(path, e)); found != nil {
					break
				}
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				e := el()
				if s, ok := k.Interface().(string); ok {
					e.Subscript = &validate.FieldPathElement_StringKey{StringKey: s}
					if strings.IndexByte(s, 0) >= 0 {
						e.Subscript = nil // the key itself is the problem: name the map
						found = append(path, e)
						return false
					}
				}
				found = nulValue(fd.MapValue(), mv, append(path, e))
				return found == nil
			})
		default:
			found = nulValue(fd, v, append(path, el()))
		}
		return found == nil
	})
	return found
}

// nulValue checks one value of field fd (an element, for lists and maps).
func nulValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, path []*validate.FieldPathElement) []*validate.FieldPathElement {
	switch fd.Kind() {
	case protoreflect.StringKind:
		if strings.IndexByte(v.String(), 0) >= 0 {
			return path
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return nulField(v.Message(), path)
	}
	return nil
}
