package product

import (
	"strconv"
	"time"

	"github.com/uptrace/bun"
	"google.golang.org/protobuf/types/known/timestamppb"

	productv1 "github.com/emporiumhq/emporium/gen/emporium/product/v1"
	typev1 "github.com/emporiumhq/emporium/gen/emporium/type/v1"
)

type categoryRow struct {
	bun.BaseModel `bun:"table:categories,alias:c"`

	Slug        string `bun:",pk"`
	Name        string
	Description string
	Position    int
	ArchivedAt  int64 // Unix µs; 0 while listed
}

type productRow struct {
	bun.BaseModel `bun:"table:products,alias:p"`

	ID          string `bun:",pk"`
	Slug        string
	Title       string
	Description string
	Brand       string
	Category    string
	Status      int32
	Price       int64 // lowest variant price
	Currency    string
	Images      []imageJSON       `bun:",type:text"`
	Attributes  map[string]string `bun:",type:text"`
	Version     int64
	// IndexVersion counts the changes of the product's search document
	// (see queueIndex); the index keeps it as the document's version.
	IndexVersion int64
	CreatedAt    int64 // Unix µs
	UpdatedAt    int64 // Unix µs

	Variants []*variantRow `bun:"rel:has-many,join:id=product_id"`
}

type imageJSON struct {
	URL string `json:"url"`
	Alt string `json:"alt,omitempty"`
}

type variantRow struct {
	bun.BaseModel `bun:"table:variants,alias:v"`

	SKU       string `bun:"sku,pk"`
	ProductID string
	Position  int
	Title     string
	Options   map[string]string `bun:",type:text"`
	Price     int64
	Currency  string
	Stock     int64
	// WeightGrams is the shipping weight; 0 when unknown.
	WeightGrams int64
}

type stockMovementRow struct {
	bun.BaseModel `bun:"table:stock_movements,alias:sm"`

	ID             string `bun:",pk"`
	SKU            string `bun:"sku"`
	Delta          int64
	Reason         string
	OnHandAfter    int64
	IdempotencyKey *string
	RequestHash    string
	CreatedAt      int64
	// Actor is who made the change (see StockMovement.actor).
	Actor string
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func etag(version int64) string { return strconv.FormatInt(version, 10) }

func (r *productRow) toProto() *productv1.Product {
	p := &productv1.Product{
		Id:          r.ID,
		Slug:        r.Slug,
		Title:       r.Title,
		Description: r.Description,
		Brand:       r.Brand,
		Category:    r.Category,
		Status:      productv1.ProductStatus(r.Status),
		Price:       &typev1.Money{Amount: r.Price, Currency: r.Currency},
		Attributes:  r.Attributes,
		CreateTime:  timestamppb.New(time.UnixMicro(r.CreatedAt)),
		UpdateTime:  timestamppb.New(time.UnixMicro(r.UpdatedAt)),
		Etag:        etag(r.Version),
	}
	for _, im := range r.Images {
		p.Images = append(p.Images, &productv1.Image{Url: im.URL, Alt: im.Alt})
	}
	for _, v := range r.Variants {
		p.Variants = append(p.Variants, &productv1.Variant{
			Sku:         v.SKU,
			Title:       v.Title,
			Options:     v.Options,
			Price:       &typev1.Money{Amount: v.Price, Currency: v.Currency},
			Stock:       v.Stock,
			WeightGrams: v.WeightGrams,
		})
		if v.Stock > 0 {
			p.InStock = true
		}
	}
	return p
}

func (c *categoryRow) toProto(count int64) *productv1.Category {
	return &productv1.Category{
		Slug: c.Slug, Name: c.Name, Description: c.Description, ProductCount: count,
		Archived: c.ArchivedAt != 0, Position: int32(c.Position),
	}
}
