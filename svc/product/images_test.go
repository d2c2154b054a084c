package product_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/testkit"
)

func picture(t *testing.T, format string) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, 8, 6), color.Palette{color.White, color.RGBA{200, 30, 30, 255}})
	img.SetColorIndex(2, 3, 1)
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, nil)
	case "gif":
		err = gif.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// fetch GETs a path of the test server: status, content type and body.
func (e *env) fetch(t *testing.T, path string) (int, string, []byte) {
	t.Helper()
	res, err := http.Get(e.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), body
}

func imageURLs(p *productv1.Product) []string {
	var out []string
	for _, im := range p.GetImages() {
		out = append(out, im.GetUrl())
	}
	return out
}

func TestProductImagesUploadServeReorderDelete(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, e *env) {
		seedEnv(t, e, 3)
		ctx := context.Background()
		got, err := e.staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "mugs-002"}})
		if err != nil {
			t.Fatal(err)
		}
		id, seeded := got.GetProduct().GetId(), got.GetProduct().GetImages()[0].GetUrl()

		pngBytes := picture(t, "png")
		req := &productv1.UploadProductImageRequest{ProductId: id, Content: pngBytes, Alt: "The mug from the side", IdempotencyKey: "upload-1"}
		up, err := e.staff.UploadProductImage(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		pngURL := up.GetImage().GetUrl()
		if !strings.HasPrefix(pngURL, "/media/uploads/products/"+id+"/") || !strings.HasSuffix(pngURL, ".png") || up.GetImage().GetAlt() != "The mug from the side" {
			t.Errorf("uploaded image = %v; want a .png under /media/uploads/products/%s/ with its alt text", up.GetImage(), id)
		}
		if diff := slices.Compare([]string{seeded, pngURL}, imageURLs(up.GetProduct())); diff != 0 {
			t.Errorf("images after upload = %v; want the seeded one, then the upload", imageURLs(up.GetProduct()))
		}
		status, ct, body := e.fetch(t, pngURL)
		if status != http.StatusOK || ct != "image/png" || !bytes.Equal(body, pngBytes) {
			t.Errorf("GET %s = %d %q (%d bytes); want 200 image/png, the bytes uploaded", pngURL, status, ct, len(body))
		}
		// The same upload retried adds nothing; the key with another body is refused.
		again, err := e.staff.UploadProductImage(ctx, req)
		if err != nil || again.GetImage().GetUrl() != pngURL || len(again.GetProduct().GetImages()) != 2 {
			t.Errorf("retried upload = %v, %v; want the first image back and still two images", again, err)
		}
		other := &productv1.UploadProductImageRequest{ProductId: id, Content: picture(t, "gif"), IdempotencyKey: "upload-1"}
		if _, err := e.staff.UploadProductImage(ctx, other); code(err) != connect.CodeAlreadyExists {
			t.Errorf("the key reused for another image: %v, want already_exists", err)
		}
		// The kind is told by the bytes, whatever the name would say.
		jpg, err := e.staff.UploadProductImage(ctx, &productv1.UploadProductImageRequest{ProductId: id, Content: picture(t, "jpeg")})
		if err != nil || !strings.HasSuffix(jpg.GetImage().GetUrl(), ".jpg") {
			t.Fatalf("JPEG upload = %v, %v", jpg.GetImage(), err)
		}
		jpgURL := jpg.GetImage().GetUrl()

		// Alt text, then order.
		alt, err := e.staff.UpdateProductImage(ctx, &productv1.UpdateProductImageRequest{ProductId: id, Url: jpgURL, Alt: "From above"})
		if err != nil || alt.GetProduct().GetImages()[2].GetAlt() != "From above" {
			t.Errorf("UpdateProductImage = %v, %v", alt, err)
		}
		if _, err := e.staff.UpdateProductImage(ctx, &productv1.UpdateProductImageRequest{ProductId: id, Url: "/media/nope.png", Alt: "x"}); code(err) != connect.CodeNotFound {
			t.Errorf("alt text of an image the product lacks: %v, want not_found", err)
		}
		order := []string{jpgURL, seeded, pngURL}
		re, err := e.staff.ReorderProductImages(ctx, &productv1.ReorderProductImagesRequest{ProductId: id, Urls: order})
		if err != nil || !slices.Equal(order, imageURLs(re.GetProduct())) {
			t.Errorf("reordered images = %v, %v; want %v", imageURLs(re.GetProduct()), err, order)
		}
		if _, err := e.staff.ReorderProductImages(ctx, &productv1.ReorderProductImagesRequest{ProductId: id, Urls: order[:2]}); code(err) != connect.CodeInvalidArgument {
			t.Errorf("reorder naming two of three: %v, want invalid_argument", err)
		}
		lookup, err := e.anon.LookupVariants(ctx, &productv1.LookupVariantsRequest{Skus: []string{"SKU-002-A"}})
		if err != nil || lookup.GetVariants()[0].GetImageUrl() != jpgURL {
			t.Errorf("the cart's image after reordering = %v, %v; want %s first", lookup, err, jpgURL)
		}

		// Deleting drops the file too, and is idempotent.
		for range 2 {
			del, err := e.staff.DeleteProductImage(ctx, &productv1.DeleteProductImageRequest{ProductId: id, Url: pngURL})
			if err != nil || !slices.Equal([]string{jpgURL, seeded}, imageURLs(del.GetProduct())) {
				t.Errorf("DeleteProductImage = %v, %v", imageURLs(del.GetProduct()), err)
			}
		}
		if status, _, _ := e.fetch(t, pngURL); status != http.StatusNotFound {
			t.Errorf("GET %s after delete = %d, want 404", pngURL, status)
		}
		// Another product cannot delete this one's file by naming its URL.
		jacket, err := e.staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "jackets-000"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.staff.DeleteProductImage(ctx, &productv1.DeleteProductImageRequest{ProductId: jacket.GetProduct().GetId(), Url: jpgURL}); err != nil {
			t.Fatal(err)
		}
		if status, _, _ := e.fetch(t, jpgURL); status != http.StatusOK {
			t.Errorf("GET %s after another product deleted it = %d, want 200", jpgURL, status)
		}
		// Replacing the images through UpdateProduct drops the files it leaves out.
		if _, err := e.staff.UpdateProduct(ctx, &productv1.UpdateProductRequest{
			Product:    &productv1.Product{Id: id, Images: []*productv1.Image{{Url: seeded}}},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"images"}},
		}); err != nil {
			t.Fatal(err)
		}
		if status, _, _ := e.fetch(t, jpgURL); status != http.StatusNotFound {
			t.Errorf("GET %s after UpdateProduct left it out = %d, want 404", jpgURL, status)
		}
		if status, _, _ := e.fetch(t, "/media/uploads/products/../../etc/passwd"); status != http.StatusNotFound {
			t.Errorf("a path out of the store = %d, want 404", status)
		}
	})
}

func TestProductImageUploadsRefuseWhatIsNotAnImage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "sqlite")
	seedEnv(t, e, 3)
	ctx := context.Background()
	got, err := e.staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Slug{Slug: "mugs-002"}})
	if err != nil {
		t.Fatal(err)
	}
	id := got.GetProduct().GetId()
	pngBytes := picture(t, "png")
	tests := []struct {
		name    string
		content []byte
		want    string // in the message
	}{
		{"an SVG, which can carry scripts", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "not a JPEG, PNG, GIF or WebP"},
		{"HTML", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), "not a JPEG, PNG, GIF or WebP"},
		{"a PDF", []byte("%PDF-1.4\n1 0 obj\n"), "not a JPEG, PNG, GIF or WebP"},
		{"a PNG cut short", pngBytes[:20], "damaged png"},
		{"over 2 MiB", append(slices.Clone(pngBytes), make([]byte, 2<<20)...), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.staff.UploadProductImage(ctx, &productv1.UploadProductImageRequest{ProductId: id, Content: tt.content})
			if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("upload = %v; want invalid_argument saying %q", err, tt.want)
			}
		})
	}
	if _, err := e.customer.UploadProductImage(ctx, &productv1.UploadProductImageRequest{ProductId: id, Content: pngBytes}); code(err) != connect.CodePermissionDenied {
		t.Errorf("customer upload: %v, want permission_denied", err)
	}
	if _, err := e.staff.UploadProductImage(ctx, &productv1.UploadProductImageRequest{ProductId: "nope", Content: pngBytes}); code(err) != connect.CodeNotFound {
		t.Errorf("upload to an unknown product: %v, want not_found", err)
	}
	if _, err := e.staff.UploadProductImage(ctx, &productv1.UploadProductImageRequest{ProductId: id}); code(err) != connect.CodeInvalidArgument || !slices.Contains(testkit.ViolationFields(err), "content") {
		t.Errorf("upload without content: %v, want a violation on content", err)
	}
	after, err := e.staff.GetProduct(ctx, &productv1.GetProductRequest{Key: &productv1.GetProductRequest_Id{Id: id}})
	if err != nil || len(after.GetProduct().GetImages()) != 1 {
		t.Errorf("images after refused uploads = %v, %v; want the seeded one only", after.GetProduct().GetImages(), err)
	}
}
