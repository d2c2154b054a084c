package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	auditv1 "github.com/emporiumhq/emporium/gen/emporium/audit/v1"
	"github.com/emporiumhq/emporium/gen/emporium/audit/v1/auditv1connect"
	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
	userv1 "github.com/emporiumhq/emporium/gen/emporium/user/v1"
	"github.com/emporiumhq/emporium/gen/emporium/user/v1/userv1connect"
	"github.com/emporiumhq/emporium/internal/platform/audit"
	"github.com/emporiumhq/emporium/internal/platform/db/dbtest"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
	"github.com/emporiumhq/emporium/internal/testworld"
)

// entrySummary is what a test checks of an entry besides its chain.
type entrySummary struct {
	Actor, Roles, Procedure, Target, Code string
}

func summarize(entries []*auditv1.AuditEntry) []entrySummary {
	var out []entrySummary
	for _, e := range entries {
		out = append(out, entrySummary{e.GetActor(), strings.Join(e.GetActorRoles(), ","), e.GetProcedure(), e.GetTargetId(), e.GetCode()})
	}
	return out
}

// withTraceparent sends a W3C traceparent header with trace id traceID.
func withTraceparent(traceID string) connect.ClientOption {
	return connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
			return next(ctx, req)
		}
	}))
}

// TestAuditLogRecordsStaffMutations runs the product and user services
// and checks what their audit logs record of staff, admin and customer
// calls, and who may read the logs.
func TestAuditLogRecordsStaffMutations(t *testing.T) {
	t.Parallel()
	// The trace id comes from the caller's traceparent, as `serve` and
	// `dev` read it (telemetry.Setup installs the same propagator).
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	dbtest.ForEachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		w := testworld.New(t, engine, testworld.Options{Services: []string{"product", "user"}})
		products := func(token string, opts ...connect.ClientOption) productv1connect.ProductServiceClient {
			return productv1connect.NewProductServiceClient(http.DefaultClient, w.URL, append(opts, testworld.As(token))...)
		}
		staff, admin := products(testkit.StaffToken), products(testkit.AdminToken)
		const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

		w.Seed(t, testworld.Item{SKU: "SEED-1", Price: 500}) // the category "goods", outside the log
		created, err := products(testkit.StaffToken, withTraceparent(traceID)).CreateProduct(ctx, &productv1.CreateProductRequest{
			Slug: "audit-mug", Title: "Mug", Category: "goods",
			Variants: []*productv1.Variant{{Sku: "AUDIT-MUG", Title: "Standard", Price: &typev1.Money{Amount: 1200, Currency: "USD"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		id := created.GetProduct().GetId()
		if _, err := staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
			Product:    &productv1.Product{Id: id, Title: "Blue mug"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}},
		}); err != nil {
			t.Fatal(err)
		}
		// Failures are recorded with their code: one from the handler, one
		// from request validation.
		_, err = staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
			Product:    &productv1.Product{Id: "prd_missing", Title: "x"},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"title"}},
		})
		if testkit.Code(err) != connect.CodeNotFound {
			t.Fatalf("UpdateProduct of a missing product: %v, want not_found", err)
		}
		_, err = staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{Product: &productv1.Product{Id: id}})
		if testkit.Code(err) != connect.CodeInvalidArgument {
			t.Fatalf("UpdateProduct without update_mask: %v, want invalid_argument", err)
		}
		if _, err := admin.ArchiveProduct(ctx, &productv1.ArchiveProductRequest{Id: id}); err != nil {
			t.Fatal(err)
		}
		// Not recorded: reads, a customer refused a staff RPC, a customer's
		// own mutation.
		if _, err := staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Id{Id: id}}); err != nil {
			t.Fatal(err)
		}
		if _, err := staff.ListProducts(ctx, &productv1.ListProductsRequest{}); err != nil {
			t.Fatal(err)
		}
		_, err = products(testkit.Customer(1)).ArchiveProduct(ctx, &productv1.ArchiveProductRequest{Id: id})
		if testkit.Code(err) != connect.CodePermissionDenied {
			t.Fatalf("a customer's ArchiveProduct: %v, want permission_denied", err)
		}
		users := userv1connect.NewUserServiceClient(http.DefaultClient, w.URL, testworld.As(testkit.StaffToken))
		_, err = users.UpdateMe(ctx, &userv1.UpdateMeRequest{User: &userv1.User{DisplayName: "Sam"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}})
		if err != nil && testkit.Code(err) != connect.CodeNotFound {
			t.Fatalf("UpdateMe: %v", err)
		}

		auditOf := func(service, token string) auditv1connect.AuditServiceClient {
			opts := []connect.ClientOption{}
			if token != "" {
				opts = append(opts, testworld.As(token))
			}
			return auditv1connect.NewAuditServiceClient(http.DefaultClient, w.URL+"/audit/"+service, opts...)
		}
		for _, tt := range []struct {
			token string
			want  connect.Code
		}{
			{"", connect.CodeUnauthenticated},
			{testkit.Customer(1), connect.CodePermissionDenied},
			{testkit.StaffToken, connect.CodePermissionDenied},
		} {
			_, err := auditOf("product", tt.token).ListAuditEntries(ctx, &auditv1.ListAuditEntriesRequest{})
			if testkit.Code(err) != tt.want {
				t.Errorf("ListAuditEntries as %q: %v, want %v", tt.token, err, tt.want)
			}
			_, err = auditOf("product", tt.token).VerifyAuditLog(ctx, &auditv1.VerifyAuditLogRequest{})
			if testkit.Code(err) != tt.want {
				t.Errorf("VerifyAuditLog as %q: %v, want %v", tt.token, err, tt.want)
			}
		}

		res, err := auditOf("product", testkit.AdminToken).ListAuditEntries(ctx, &auditv1.ListAuditEntriesRequest{})
		if err != nil {
			t.Fatal(err)
		}
		const (
			create  = productv1connect.ProductServiceCreateProductProcedure
			update  = productv1connect.ProductServiceUpdateProductProcedure
			archive = productv1connect.ProductServiceArchiveProductProcedure
		)
		want := []entrySummary{
			{"admin-1", "admin", archive, id, "ok"},
			{"staff-1", "staff", update, id, "invalid_argument"},
			{"staff-1", "staff", update, "prd_missing", "not_found"},
			{"staff-1", "staff", update, id, "ok"},
			{"staff-1", "staff", create, id, "ok"},
		}
		if diff := cmp.Diff(want, summarize(res.GetEntries())); diff != "" {
			t.Fatalf("product's audit log (-want +got):\n%s", diff)
		}
		first := res.GetEntries()[4]
		if first.GetSeq() != 1 || first.GetService() != "product" || first.GetTraceId() != traceID || first.GetPrevHash() != audit.GenesisHash {
			t.Errorf("first entry = seq %d, service %q, trace %q, prev %s; want 1, product, %s, the genesis hash",
				first.GetSeq(), first.GetService(), first.GetTraceId(), first.GetPrevHash(), traceID)
		}
		if got := res.GetEntries()[3].GetRequestJson(); !strings.Contains(got, `"title":"Blue mug"`) || !strings.Contains(got, id) {
			t.Errorf("UpdateProduct's request_json = %s, want the request with its title and id", got)
		}

		// Filters and pages.
		page1, err := auditOf("product", testkit.AdminToken).ListAuditEntries(ctx, &auditv1.ListAuditEntriesRequest{Procedure: "UpdateProduct", PageSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		page2, err := auditOf("product", testkit.AdminToken).ListAuditEntries(ctx, &auditv1.ListAuditEntriesRequest{Procedure: "UpdateProduct", PageSize: 2, PageToken: page1.GetNextPageToken()})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[1:4], summarize(append(page1.GetEntries(), page2.GetEntries()...))); diff != "" || page2.GetNextPageToken() != "" {
			t.Errorf("UpdateProduct in pages of 2 (-want +got):\n%s\nlast token %q", diff, page2.GetNextPageToken())
		}
		failed, err := auditOf("product", testkit.AdminToken).ListAuditEntries(ctx, &auditv1.ListAuditEntriesRequest{Actor: "staff-1", Code: "not_found"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[2:3], summarize(failed.GetEntries())); diff != "" {
			t.Errorf("staff-1's not_found calls (-want +got):\n%s", diff)
		}
		_, err = auditOf("product", testkit.AdminToken).ListAuditEntries(ctx, &auditv1.ListAuditEntriesRequest{Code: "broken", PageToken: "%%%"})
		if testkit.Code(err) != connect.CodeInvalidArgument || !cmp.Equal(testkit.ViolationFields(err), []string{"code"}) {
			t.Errorf("a bad filter: %v (fields %v), want invalid_argument on code", err, testkit.ViolationFields(err))
		}
		_, err = auditOf("product", testkit.AdminToken).ListAuditEntries(ctx, &auditv1.ListAuditEntriesRequest{PageToken: "%%%"})
		if testkit.Code(err) != connect.CodeInvalidArgument {
			t.Errorf("a forged page token: %v, want invalid_argument", err)
		}

		// Each service keeps its own log: the user service recorded nothing.
		userLog, err := auditOf("user", testkit.AdminToken).ListAuditEntries(ctx, &auditv1.ListAuditEntriesRequest{})
		if err != nil || len(userLog.GetEntries()) != 0 {
			t.Errorf("user's audit log = %v, %v; want empty (UpdateMe is a customer RPC)", summarize(userLog.GetEntries()), err)
		}
		v, err := auditOf("product", testkit.AdminToken).VerifyAuditLog(ctx, &auditv1.VerifyAuditLogRequest{})
		if err != nil || v.GetEntries() != 5 || len(v.GetBreaks()) != 0 || v.GetService() != "product" {
			t.Errorf("VerifyAuditLog = %v, %v; want product's 5 entries intact", v, err)
		}
	})
}
