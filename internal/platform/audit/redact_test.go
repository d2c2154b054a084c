package audit_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	auditv1 "github.com/emporiumhq/emporium/gen/emporium/audit/v1"
	authv1 "github.com/emporiumhq/emporium/gen/emporium/auth/v1"
	orderv1 "github.com/emporiumhq/emporium/gen/emporium/order/v1"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/internal/platform/audit"
)

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	return v
}

func TestRedactedJSONOfRealRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  proto.Message
		want map[string]any
	}{
		{"password", &userv1.CheckPasswordRequest{Email: "ann@example.com", Password: "correct horse battery"},
			map[string]any{"email": "ann@example.com", "password": audit.Redacted}},
		{"reset token and new password", &userv1.ResetPasswordRequest{Token: "rst_abc", NewPassword: "another long one"},
			map[string]any{"token": audit.Redacted, "newPassword": audit.Redacted}},
		{"payment method id", &orderv1.PayOrderRequest{OrderId: "ord_1", PaymentMethod: "pm_1Nx2"},
			map[string]any{"orderId": "ord_1", "paymentMethod": audit.Redacted}},
		{"access and refresh tokens", &authv1.Tokens{AccessToken: "eyJ…", RefreshToken: "rt_1", UserId: "u1"},
			map[string]any{"accessToken": audit.Redacted, "refreshToken": audit.Redacted, "userId": "u1"}},
		{"page tokens are cursors, not secrets", &auditv1.ListAuditEntriesRequest{Actor: "staff-1", PageToken: "eyJzIjo1fQ"},
			map[string]any{"actor": "staff-1", "pageToken": "eyJzIjo1fQ"}},
		{"nothing sensitive", &orderv1.RefundOrderRequest{Id: "ord_9", Reason: "damaged", IdempotencyKey: "click-123456"},
			map[string]any{"id": "ord_9", "reason": "damaged", "idempotencyKey": "click-123456"}},
	}
	for _, tt := range tests {
		before := proto.Clone(tt.msg)
		got := audit.RedactedJSON(tt.msg)
		if diff := cmp.Diff(tt.want, decode(t, got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		if !proto.Equal(before, tt.msg) {
			t.Errorf("%s: RedactedJSON changed the request", tt.name)
		}
	}
}

// testMessage builds, from a descriptor, a message with sensitive fields at
// every depth: marked debug_redact, named like secrets, nested, repeated,
// in maps, of non-string kinds.
func testMessage(t *testing.T) protoreflect.MessageDescriptor {
	t.Helper()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	field := func(name string, n int32, typ *descriptorpb.FieldDescriptorProto_Type, label *descriptorpb.FieldDescriptorProto_Label, typeName string) *descriptorpb.FieldDescriptorProto {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n), Type: typ, Label: label, JsonName: proto.String(jsonName(name))}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	hint := field("hint", 2, str, opt, "")
	hint.Options = &descriptorpb.FieldOptions{DebugRedact: proto.Bool(true)}
	entry := func(name, valueType string) *descriptorpb.DescriptorProto {
		v := field("value", 2, str, opt, "")
		if valueType != "" {
			v = field("value", 2, msg, opt, valueType)
		}
		return &descriptorpb.DescriptorProto{
			Name:    proto.String(name),
			Field:   []*descriptorpb.FieldDescriptorProto{field("key", 1, str, opt, ""), v},
			Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
		}
	}
	fd := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("audittest/redact.proto"),
		Package: proto.String("audittest"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Inner"), Field: []*descriptorpb.FieldDescriptorProto{
				field("note", 1, str, opt, ""),
				field("api_key", 2, str, opt, ""),
				field("card_cvc", 3, descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum(), opt, ""),
			}},
			{Name: proto.String("Outer"), Field: []*descriptorpb.FieldDescriptorProto{
				field("id", 1, str, opt, ""),
				hint,
				field("inner", 3, msg, opt, ".audittest.Inner"),
				field("items", 4, msg, rep, ".audittest.Inner"),
				field("secret_labels", 5, msg, rep, ".audittest.Outer.SecretLabelsEntry"),
				field("by_name", 6, msg, rep, ".audittest.Outer.ByNameEntry"),
				field("card_data", 7, descriptorpb.FieldDescriptorProto_TYPE_BYTES.Enum(), opt, ""),
				field("tokens", 8, str, rep, ""),
				field("shipping_note", 9, str, opt, ""),
				field("client_secret", 10, str, opt, ""),
			}, NestedType: []*descriptorpb.DescriptorProto{
				entry("SecretLabelsEntry", ""),
				entry("ByNameEntry", ".audittest.Inner"),
			}},
		},
	}
	f, err := protodesc.NewFile(fd, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return f.Messages().ByName("Outer")
}

func jsonName(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

func TestRedactedJSONAtEveryDepth(t *testing.T) {
	t.Parallel()
	md := testMessage(t)
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(`{
		"id": "x1",
		"hint": "the answer is 42",
		"inner": {"note": "keep", "apiKey": "ak_live_1", "cardCvc": 123},
		"items": [{"note": "a", "apiKey": "k1"}, {"note": "b", "apiKey": "k2"}],
		"secretLabels": {"one": "s1", "two": "s2"},
		"byName": {"n": {"note": "c", "apiKey": "k3"}},
		"cardData": "NDI0MjQyNDI0MjQyNDI0Mg==",
		"tokens": ["t1", "t2"],
		"shippingNote": "leave at the door",
		"clientSecret": "pi_1_secret_2"
	}`), m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id":           "x1",
		"hint":         audit.Redacted,
		"inner":        map[string]any{"note": "keep", "apiKey": audit.Redacted},
		"items":        []any{map[string]any{"note": "a", "apiKey": audit.Redacted}, map[string]any{"note": "b", "apiKey": audit.Redacted}},
		"secretLabels": map[string]any{"one": audit.Redacted, "two": audit.Redacted},
		"byName":       map[string]any{"n": map[string]any{"note": "c", "apiKey": audit.Redacted}},
		"tokens":       []any{audit.Redacted, audit.Redacted},
		"shippingNote": "leave at the door",
		"clientSecret": audit.Redacted,
	}
	got := audit.RedactedJSON(m)
	if diff := cmp.Diff(want, decode(t, got)); diff != "" {
		t.Errorf("RedactedJSON (-want +got):\n%s", diff)
	}
	for _, secret := range []string{"42", "ak_live_1", "123", "k1", "k2", "k3", "s1", "s2", "NDI0", "t1", "pi_1_secret"} {
		if strings.Contains(got, secret) {
			t.Errorf("RedactedJSON leaks %q: %s", secret, got)
		}
	}
}

func TestRedactedJSONOmitsHugeRequests(t *testing.T) {
	t.Parallel()
	got := audit.RedactedJSON(&orderv1.RefundOrderRequest{Id: "o", Reason: strings.Repeat("x", audit.MaxRequestJSON)})
	size := len(`{"id":"o","reason":""}`) + audit.MaxRequestJSON
	if want := map[string]any{"@omitted": fmt.Sprintf("the request was %d bytes of JSON", size)}; !cmp.Equal(want, decode(t, got)) {
		t.Errorf("RedactedJSON = %s, want %v", got, want)
	}
}

func TestTargetOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		req, res proto.Message
		want     string
	}{
		{"id", &orderv1.RefundOrderRequest{Id: "ord_1", IdempotencyKey: "k-12345678"}, nil, "ord_1"},
		{"first _id field", &orderv1.PayOrderRequest{OrderId: "ord_2", PaymentMethod: "pm_1"}, nil, "ord_2"},
		{"the resource an update carries", &productv1.UpdateProductRequest{Product: &productv1.Product{Id: "prd_3", Title: "Mug"}}, nil, "prd_3"},
		{"what a create made", &productv1.CreateProductRequest{Slug: "mug", Title: "Mug"},
			&productv1.CreateProductResponse{Product: &productv1.Product{Id: "prd_4", Slug: "mug"}}, "prd_4"},
		{"a failed create: its natural key", &productv1.CreateProductRequest{Slug: "mug", Title: "Mug"}, nil, "mug"},
		{"sku", &productv1.AdjustStockRequest{Sku: "MUG-RED", Delta: 3}, nil, "MUG-RED"},
		{"nothing", &productv1.SetSearchSynonymsRequest{}, nil, ""},
		{"nil", nil, nil, ""},
	}
	for _, tt := range tests {
		if got := audit.TargetOf(tt.req, tt.res); got != tt.want {
			t.Errorf("%s: TargetOf = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRecorded(t *testing.T) {
	t.Parallel()
	method := func(sd protoreflect.ServiceDescriptor, name string) protoreflect.MethodDescriptor {
		md := sd.Methods().ByName(protoreflect.Name(name))
		if md == nil {
			t.Fatalf("%s has no method %s", sd.FullName(), name)
		}
		return md
	}
	products := productv1.File_emporium_product_v1_product_proto.Services().ByName("ProductService")
	orders := orderv1.File_emporium_order_v1_order_proto.Services().ByName("OrderService")
	users := userv1.File_emporium_user_v1_user_proto.Services().ByName("UserService")
	audits := auditv1.File_emporium_audit_v1_audit_proto.Services().ByName("AuditService")
	tests := []struct {
		md   protoreflect.MethodDescriptor
		want bool
	}{
		{method(products, "UpdateProduct"), true},   // staff mutation
		{method(products, "CreateProduct"), true},   // staff mutation
		{method(orders, "RefundOrder"), true},       // staff mutation
		{method(products, "GetProduct"), false},     // public read
		{method(users, "UpdateMe"), false},          // customer mutation
		{method(audits, "ListAuditEntries"), false}, // admin read
		{nil, false},
	}
	for _, tt := range tests {
		if got := audit.Recorded(tt.md); got != tt.want {
			name := "<nil>"
			if tt.md != nil {
				name = string(tt.md.FullName())
			}
			t.Errorf("Recorded(%s) = %v, want %v", name, got, tt.want)
		}
	}
}
