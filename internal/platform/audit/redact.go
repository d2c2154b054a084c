package audit

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Redacted replaces the value of a sensitive string field.
const Redacted = "[REDACTED]"

// MaxRequestJSON is the longest request the log keeps; a longer one is
// replaced by a note of its size (a bulk import's rows are in the service's
// own tables, not worth copying into every entry).
const MaxRequestJSON = 64 << 10

// sensitiveWords are the words (between underscores, singular or plural)
// of a field name that make the field sensitive: credentials, secrets and
// card data.
var sensitiveWords = map[string]bool{
	"password": true, "passwd": true, "passphrase": true, "secret": true, "token": true,
	"credential": true, "credentials": true, "otp": true, "pin": true,
	"card": true, "cvc": true, "cvv": true, "pan": true, "iban": true,
	"signature": true, "authorization": true, "cookie": true,
}

// sensitiveNames are parts of a field name that make it sensitive whatever
// surrounds them.
var sensitiveNames = []string{"payment_method", "api_key", "apikey", "private_key", "card_number", "account_number"}

// Sensitive reports whether a field's value must not be logged: it is
// marked debug_redact in its .proto, or its name says it holds a secret
// (password, token, secret, payment_method, card, cvc, api_key, …).
// page_token fields are cursors, not secrets.
func Sensitive(fd protoreflect.FieldDescriptor) bool {
	if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts.GetDebugRedact() {
		return true
	}
	name := strings.ToLower(string(fd.Name()))
	if name == "page_token" || name == "next_page_token" {
		return false
	}
	for _, s := range sensitiveNames {
		if strings.Contains(name, s) {
			return true
		}
	}
	for _, w := range strings.Split(name, "_") {
		if sensitiveWords[w] || sensitiveWords[strings.TrimSuffix(w, "s")] {
			return true
		}
	}
	return false
}

// RedactedJSON is m as compact protobuf JSON with every Sensitive field,
// at any depth, redacted: a string (or each string of a list or map)
// becomes Redacted, any other value is left out. m itself is not changed.
func RedactedJSON(m proto.Message) string {
	if m == nil {
		return "{}"
	}
	c := proto.Clone(m)
	redact(c.ProtoReflect())
	b, err := protojson.Marshal(c)
	if err != nil {
		return `{"@unprintable":` + strconv.Quote(err.Error()) + `}`
	}
	var out bytes.Buffer
	if json.Compact(&out, b) == nil {
		b = out.Bytes()
	}
	if len(b) > MaxRequestJSON {
		return `{"@omitted":"the request was ` + strconv.Itoa(len(b)) + ` bytes of JSON"}`
	}
	return string(b)
}

func redact(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case Sensitive(fd):
			redactField(m, fd)
		case fd.IsMap():
			if isMessage(fd.MapValue()) {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					redactMessage(mv.Message())
					return true
				})
			}
		case fd.IsList():
			if isMessage(fd) {
				l := v.List()
				for i := range l.Len() {
					redactMessage(l.Get(i).Message())
				}
			}
		case isMessage(fd):
			redactMessage(v.Message())
		}
		return true
	})
}

// redactMessage redacts a nested message. An Any's content is opaque
// bytes to this walk, so it is dropped whole rather than printed.
func redactMessage(m protoreflect.Message) {
	if m.Descriptor().FullName() == "google.protobuf.Any" {
		m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
			m.Clear(fd)
			return true
		})
		return
	}
	redact(m)
}

func redactField(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
	switch {
	case fd.IsMap() && fd.MapValue().Kind() == protoreflect.StringKind:
		mp := m.Mutable(fd).Map()
		mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			mp.Set(k, protoreflect.ValueOfString(Redacted))
			return true
		})
	case fd.IsList() && fd.Kind() == protoreflect.StringKind:
		l := m.Mutable(fd).List()
		for i := range l.Len() {
			l.Set(i, protoreflect.ValueOfString(Redacted))
		}
	case !fd.IsMap() && !fd.IsList() && fd.Kind() == protoreflect.StringKind:
		m.Set(fd, protoreflect.ValueOfString(Redacted))
	default:
		m.Clear(fd)
	}
}

func isMessage(fd protoreflect.FieldDescriptor) bool {
	return fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind
}

// targetSkip are fields ending in _id that name no target: keys and
// references a request carries besides what it acts on.
var targetSkip = map[string]bool{"request_id": true, "search_id": true, "trace_id": true}

// TargetOf is what a call acted on, by convention, from its request and,
// when the call succeeded, its response:
//
//  1. the request's top-level `id` field;
//  2. else its first top-level field (in the order the .proto declares
//     them) whose name ends in `_id` (order_id, product_id, …; not
//     request_id, search_id or trace_id);
//  3. else the `id` of its first top-level message field (an update that
//     carries the resource: UpdateProductRequest.product.id);
//  4. else the same in the response (a create names what it made:
//     CreateProductResponse.product.id);
//  5. else the request's natural key: `sku`, `slug`, `code` or `word`.
//
// Only set fields of a string or integer kind count. "" when none is set.
func TargetOf(req, res proto.Message) string {
	if id := idOf(req); id != "" {
		return id
	}
	if id := idOf(res); id != "" {
		return id
	}
	if req == nil {
		return ""
	}
	r := req.ProtoReflect()
	for _, name := range naturalKeys {
		if fd := r.Descriptor().Fields().ByName(name); fd != nil && scalarID(fd) && r.Has(fd) {
			return idString(r.Get(fd))
		}
	}
	return ""
}

// naturalKeys name a target where a request has no id.
var naturalKeys = []protoreflect.Name{"sku", "slug", "code", "word"}

// idOf is steps 1 to 3 of TargetOf for one message.
func idOf(m proto.Message) string {
	if m == nil || !m.ProtoReflect().IsValid() {
		return ""
	}
	r := m.ProtoReflect()
	if id, ok := ownID(r); ok {
		return id
	}
	fields := r.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		name := string(fd.Name())
		if strings.HasSuffix(name, "_id") && !targetSkip[name] && scalarID(fd) && r.Has(fd) {
			return idString(r.Get(fd))
		}
	}
	for i := range fields.Len() {
		fd := fields.Get(i)
		if isMessage(fd) && !fd.IsList() && !fd.IsMap() && r.Has(fd) {
			if id, ok := ownID(r.Get(fd).Message()); ok {
				return id
			}
		}
	}
	return ""
}

// ownID is m's `id` field, when it has one and it is set.
func ownID(m protoreflect.Message) (string, bool) {
	fd := m.Descriptor().Fields().ByName("id")
	if fd == nil || !scalarID(fd) || !m.Has(fd) {
		return "", false
	}
	return idString(m.Get(fd)), true
}

func scalarID(fd protoreflect.FieldDescriptor) bool {
	if fd.IsList() || fd.IsMap() {
		return false
	}
	switch fd.Kind() {
	case protoreflect.StringKind, protoreflect.Int64Kind, protoreflect.Int32Kind, protoreflect.Uint64Kind,
		protoreflect.Uint32Kind, protoreflect.Sint64Kind, protoreflect.Sint32Kind:
		return true
	}
	return false
}

func idString(v protoreflect.Value) string { return v.String() }
