package product

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // image.DecodeConfig reads GIF headers
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
	_ "golang.org/x/image/webp" // and WebP ones
	"google.golang.org/protobuf/proto"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	"github.com/emporiumhq/emporium/internal/platform/blob"
	"github.com/emporiumhq/emporium/internal/platform/db"
	"github.com/emporiumhq/emporium/internal/platform/errs"
)

// UploadsPath is where images uploaded through UploadProductImage are
// served, under MediaPath; the rest of the path is the blob's key.
const UploadsPath = MediaPath + "uploads/"

const (
	// MaxImageBytes bounds an uploaded image: as base64 in a JSON request
	// it stays well under the edge's and the services' 4 MiB body limit.
	MaxImageBytes = 2 << 20
	// maxImageSide bounds an image's width and height in pixels, so no
	// browser is handed a decompression bomb.
	maxImageSide = 10000
	// maxImages is how many images a product may have (CreateProduct's rule).
	maxImages = 20
)

// imageTypes are the image formats the shop accepts, by the content type
// http.DetectContentType sniffs from their first bytes, with the extension
// their blobs get.
var imageTypes = map[string]string{
	"image/jpeg": "jpg",
	"image/png":  "png",
	"image/gif":  "gif",
	"image/webp": "webp",
}

// sniffImage reports the content type and extension of an image the shop
// accepts, from its bytes alone; anything else is errs.Invalid.
func sniffImage(data []byte) (contentType, ext string, err error) {
	if len(data) > MaxImageBytes {
		return "", "", errs.Invalidf("content: the image is %d bytes, over the limit of %d (2 MiB)", len(data), MaxImageBytes)
	}
	ct := http.DetectContentType(data)
	ext, ok := imageTypes[ct]
	if !ok {
		return "", "", errs.Invalidf("content: not a JPEG, PNG, GIF or WebP image (its bytes look like %s)", ct)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", "", errs.Invalidf("content: a damaged %s image: %v", strings.TrimPrefix(ct, "image/"), err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxImageSide || cfg.Height > maxImageSide {
		return "", "", errs.Invalidf("content: the image is %d×%d pixels; each side must be 1 to %d", cfg.Width, cfg.Height, maxImageSide)
	}
	return ct, ext, nil
}

// removedImages are the URLs of before that after no longer has.
func removedImages(before, after []imageJSON) []string {
	var out []string
	for _, b := range before {
		if !slices.ContainsFunc(after, func(a imageJSON) bool { return a.URL == b.URL }) {
			out = append(out, b.URL)
		}
	}
	return out
}

// uploadKey is the blob key of an uploaded image's URL, if it is one.
func uploadKey(url string) (string, bool) {
	key, ok := strings.CutPrefix(url, UploadsPath)
	return key, ok && blob.CheckKey(key) == nil
}

type imageUploadRow struct {
	bun.BaseModel `bun:"table:image_uploads,alias:iu"`

	IdempotencyKey string `bun:",pk"`
	RequestHash    string
	ProductID      string
	URL            string `bun:"url"`
	CreatedAt      int64
}

// UploadProductImage implements ProductService.
func (s *Service) UploadProductImage(ctx context.Context, req *productv1.UploadProductImageRequest) (*productv1.UploadProductImageResponse, error) {
	if s.media == nil {
		return nil, errs.FailedPreconditionf("this shop has no media store for uploads (--media-dir)")
	}
	ct, ext, err := sniffImage(req.GetContent())
	if err != nil {
		return nil, err
	}
	clone := proto.CloneOf(req)
	clone.IdempotencyKey = ""
	hash := digest(clone)
	if key := req.GetIdempotencyKey(); key != "" {
		prev := new(imageUploadRow)
		err := s.store.db.NewSelect().Model(prev).Where("iu.idempotency_key = ?", key).Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("read image upload: %w", err)
		case prev.RequestHash != hash:
			return nil, errs.Conflictf("idempotency_key %q was already used for another upload", key)
		default:
			row, err := s.store.product(ctx, "id", prev.ProductID)
			if err != nil {
				return nil, err
			}
			return &productv1.UploadProductImageResponse{Product: row.toProto(), Image: findImage(row, prev.URL)}, nil
		}
	}
	key := "products/" + req.GetProductId() + "/" + newID() + "." + ext
	if err := blob.CheckKey(key); err != nil {
		return nil, errs.NotFoundf("product %q not found", req.GetProductId())
	}
	url := UploadsPath + key
	// The file first: a product never points at an image that is not there.
	// If the product write fails, the file goes again.
	if err := s.media.Put(ctx, key, ct, req.GetContent()); err != nil {
		return nil, fmt.Errorf("store image: %w", err)
	}
	row, err := s.store.updateProductThen(ctx, req.GetProductId(), 0, func(row *productRow) (bool, error) {
		if len(row.Images) >= maxImages {
			return false, errs.FailedPreconditionf("product %q already has %d images, the most it may have: delete one first", row.ID, maxImages)
		}
		row.Images = append(row.Images, imageJSON{URL: url, Alt: req.GetAlt()})
		row.UpdatedAt = micros(s.now())
		return false, nil
	}, func(ctx context.Context, tx bun.Tx, row *productRow) error {
		if req.GetIdempotencyKey() == "" {
			return nil
		}
		_, err := tx.NewInsert().Model(&imageUploadRow{
			IdempotencyKey: req.GetIdempotencyKey(), RequestHash: hash, ProductID: row.ID, URL: url, CreatedAt: micros(s.now()),
		}).Exec(ctx)
		if db.IsUniqueViolation(err) {
			return errs.Abortedf("an upload with idempotency_key %q is in progress; retry", req.GetIdempotencyKey())
		}
		return err
	})
	if err != nil {
		if derr := s.media.Delete(context.WithoutCancel(ctx), key); derr != nil {
			s.log.WarnContext(ctx, "an image upload failed and its file stays in the media store", "key", key, "err", derr)
		}
		return nil, err
	}
	s.sync(ctx, row)
	return &productv1.UploadProductImageResponse{Product: row.toProto(), Image: findImage(row, url)}, nil
}

func findImage(row *productRow, url string) *productv1.Image {
	for _, im := range row.Images {
		if im.URL == url {
			return &productv1.Image{Url: im.URL, Alt: im.Alt}
		}
	}
	return nil
}

func imageIndex(row *productRow, url string) int {
	for i, im := range row.Images {
		if im.URL == url {
			return i
		}
	}
	return -1
}

// UpdateProductImage implements ProductService.
func (s *Service) UpdateProductImage(ctx context.Context, req *productv1.UpdateProductImageRequest) (*productv1.UpdateProductImageResponse, error) {
	row, err := s.store.updateProduct(ctx, req.GetProductId(), 0, func(row *productRow) (bool, error) {
		i := imageIndex(row, req.GetUrl())
		if i < 0 {
			return false, errs.NotFoundf("product %q has no image %q", row.ID, req.GetUrl())
		}
		row.Images[i].Alt = req.GetAlt()
		row.UpdatedAt = micros(s.now())
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	s.sync(ctx, row)
	return &productv1.UpdateProductImageResponse{Product: row.toProto()}, nil
}

// ReorderProductImages implements ProductService.
func (s *Service) ReorderProductImages(ctx context.Context, req *productv1.ReorderProductImagesRequest) (*productv1.ReorderProductImagesResponse, error) {
	row, err := s.store.updateProduct(ctx, req.GetProductId(), 0, func(row *productRow) (bool, error) {
		if len(req.GetUrls()) != len(row.Images) {
			return false, errs.Invalidf("urls must name each of the product's %d images once; it names %d", len(row.Images), len(req.GetUrls()))
		}
		images := make([]imageJSON, 0, len(row.Images))
		for i, url := range req.GetUrls() {
			j := imageIndex(row, url)
			if j < 0 {
				return false, errs.Invalidf("urls[%d]: the product has no image %q", i, url)
			}
			images = append(images, row.Images[j])
		}
		row.Images = images
		row.UpdatedAt = micros(s.now())
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	s.sync(ctx, row)
	return &productv1.ReorderProductImagesResponse{Product: row.toProto()}, nil
}

// DeleteProductImage implements ProductService.
func (s *Service) DeleteProductImage(ctx context.Context, req *productv1.DeleteProductImageRequest) (*productv1.DeleteProductImageResponse, error) {
	row, err := s.store.product(ctx, "id", req.GetProductId())
	if err != nil {
		return nil, err
	}
	if imageIndex(row, req.GetUrl()) >= 0 {
		row, err = s.store.updateProduct(ctx, req.GetProductId(), 0, func(row *productRow) (bool, error) {
			if i := imageIndex(row, req.GetUrl()); i >= 0 {
				row.Images = append(row.Images[:i], row.Images[i+1:]...)
				row.UpdatedAt = micros(s.now())
			}
			return false, nil
		})
		if err != nil {
			return nil, err
		}
		s.sync(ctx, row)
	}
	if imageIndex(row, req.GetUrl()) < 0 {
		s.dropUploads(ctx, row.ID, req.GetUrl())
	}
	return &productv1.DeleteProductImageResponse{Product: row.toProto()}, nil
}

// dropUploads deletes the files of images uploaded for productID that it no
// longer shows. Other URLs are left alone: a file uploaded for another
// product is that product's. A failure is logged: the product is already
// right, and a leftover file only takes space.
func (s *Service) dropUploads(ctx context.Context, productID string, urls ...string) {
	if s.media == nil {
		return
	}
	for _, url := range urls {
		key, ok := uploadKey(url)
		if !ok || !strings.HasPrefix(key, "products/"+productID+"/") {
			continue
		}
		if err := s.media.Delete(context.WithoutCancel(ctx), key); err != nil {
			s.log.WarnContext(ctx, "could not delete an image's file from the media store", "key", key, "err", err)
		}
	}
}

// MediaHandler serves uploaded images from the media store at UploadsPath:
// GET and HEAD, with the type they were stored with, never sniffed or run
// by a browser, cached for a year (a key is never reused).
func (s *Service) MediaHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		key, ok := uploadKey(r.URL.Path)
		if !ok || s.media == nil {
			http.NotFound(w, r)
			return
		}
		data, ct, err := s.media.Get(r.Context(), key)
		if errs.Is(err, errs.NotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			s.log.ErrorContext(r.Context(), "read media", "key", key, "err", err)
			http.Error(w, "media store unavailable", http.StatusServiceUnavailable)
			return
		}
		if _, ok := imageTypes[ct]; !ok {
			http.NotFound(w, r) // only what UploadProductImage stored
			return
		}
		h := w.Header()
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(data)))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(data)
		}
	})
}
