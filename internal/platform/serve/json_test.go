package serve_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/emporiumhq/emporium/gen/emporium/order/v1/orderv1connect"
	"github.com/emporiumhq/emporium/gen/emporium/product/v1/productv1connect"
	"github.com/emporiumhq/emporium/internal/platform/logx"
	"github.com/emporiumhq/emporium/internal/platform/serve"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
)

// TestUndefinedEnumValuesAreRefused posts JSON to real Connect handlers
// mounted with the options every service has. Their methods are
// unimplemented: a request that decodes and validates gets 501.
func TestUndefinedEnumValuesAreRefused(t *testing.T) {
	t.Parallel()
	opts, err := serve.HandlerOptions(logx.Discard(), testkit.Tokens{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(productv1connect.NewProductServiceHandler(productv1connect.UnimplementedProductServiceHandler{}, opts...))
	mux.Handle(orderv1connect.NewOrderServiceHandler(orderv1connect.UnimplementedOrderServiceHandler{}, opts...))
	for _, tc := range []struct {
		name, path, body, contentType string
		status                        int
		want                          string // in the body
	}{
		{"undefined sort name", "/emporium.product.v1.ProductService/ListProducts", `{"sort":"PRODUCT_SORT_BY_HACK"}`, "application/json",
			http.StatusBadRequest, `"code":"invalid_argument","message":"unmarshal message: sort: \"PRODUCT_SORT_BY_HACK\" is not a value of emporium.product.v1.ProductSort"`},
		{"undefined sort name, charset", "/emporium.product.v1.ProductService/ListProducts", `{"sort":"PRODUCT_SORT_BY_HACK"}`, "application/json; charset=utf-8",
			http.StatusBadRequest, `"code":"invalid_argument"`},
		{"undefined sort number", "/emporium.product.v1.ProductService/ListProducts", `{"sort":99}`, "application/json",
			http.StatusBadRequest, `"ruleId":"enum.defined_only"`},
		{"mistyped status filter", "/emporium.order.v1.OrderService/ListOrders", `{"statuses":["ORDER_STATUS_PAID","ORDER_STATUS_PAYED"]}`, "application/json",
			http.StatusBadRequest, `statuses: \"ORDER_STATUS_PAYED\" is not a value of emporium.order.v1.OrderStatus`},
		{"undefined status nested in a message", "/emporium.product.v1.ProductService/UpdateProduct", `{"product":{"id":"p1","status":"PRODUCT_STATUS_GONE"},"updateMask":"status"}`, "application/json",
			http.StatusBadRequest, `product.status: \"PRODUCT_STATUS_GONE\" is not a value`},
		{"defined names, proto or JSON field names", "/emporium.order.v1.OrderService/ListOrders", `{"statuses":["ORDER_STATUS_PAID"],"page_size":5}`, "application/json",
			http.StatusNotImplemented, `"code":"unimplemented"`},
		// Clients newer than the server may send fields it does not know.
		{"unknown field beside a defined name", "/emporium.product.v1.ProductService/ListProducts", `{"sort":"PRODUCT_SORT_PRICE_ASC","fromTheFuture":{"x":1}}`, "application/json",
			http.StatusNotImplemented, `"code":"unimplemented"`},
	} {
		req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.contentType)
		req.Header.Set("Authorization", "Bearer "+testkit.StaffToken)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("%s: %d %s, want %d with %s", tc.name, rec.Code, rec.Body, tc.status, tc.want)
		}
	}
}
