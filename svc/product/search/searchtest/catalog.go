package searchtest

import (
	"fmt"
	"time"

	"github.com/emporiumhq/emporium/svc/product/search"
)

// htmlDescription is the description of "c2", which carries markup that a
// highlight must return escaped.
const htmlDescription = "Keeps drinks cold for 24 hours. <script>alert('x')</script> & dishwasher safe."

// Catalog is the small outdoor-and-apparel catalog the suite seeds: 31
// products in 8 categories, 4 brands and every price band. Its words are
// chosen so that the expected matches of each query can be worked out by
// hand, typos included. Each call returns a new slice.
func Catalog() []search.Document {
	base := time.Date(2025, time.March, 1, 9, 0, 0, 0, time.UTC)
	d := func(i int, id, title, desc, brand, cat, catName, attrs string, price int64, inStock bool) search.Document {
		return search.Document{
			ID:           id,
			Slug:         fmt.Sprintf("%s-%s", id, cat),
			Title:        title,
			Description:  desc,
			Brand:        brand,
			Category:     cat,
			CategoryName: catName,
			Attributes:   attrs,
			Price:        price,
			InStock:      inStock,
			Created:      base.Add(time.Duration(i) * time.Hour),
		}
	}
	const (
		northpeak = "Northpeak"
		trailhead = "Trailhead"
		urbanite  = "Urbanite"
		fjordline = "Fjordline"
	)
	return []search.Document{
		d(0, "j1", "Alpine Shell Jacket", "A waterproof shell for stormy ridges.", northpeak, "jackets", "Jackets", "nylon waterproof regular fit", 18900, true),
		d(1, "j2", "Down Puffer Jacket", "Warm goose down insulation for winter city days.", urbanite, "jackets", "Jackets", "down insulated", 22900, true),
		d(2, "j3", "Rain Jacket", "Lightweight and waterproof, packs into its chest pocket.", trailhead, "jackets", "Jackets", "polyester waterproof", 7900, true),
		d(3, "j4", "Fleece Jacket", "Soft fleece layer for chilly evenings.", fjordline, "jackets", "Jackets", "fleece", 5900, false),
		d(4, "j5", "Softshell Jacket", "Wind resistant stretch softshell.", northpeak, "jackets", "Jackets", "stretch", 12900, true),
		d(5, "h1", "Classic Pullover Hoodie", "Heavyweight cotton hoodie with kangaroo pocket.", urbanite, "hoodies", "Hoodies & Sweatshirts", "cotton relaxed fit", 4900, true),
		d(6, "h2", "Zip Hoodie", "Full zip hoodie in brushed cotton.", trailhead, "hoodies", "Hoodies & Sweatshirts", "cotton", 5400, true),
		d(7, "h3", "Crewneck Sweatshirt", "Organic cotton sweatshirt, garment dyed.", fjordline, "hoodies", "Hoodies & Sweatshirts", "organic cotton", 4400, true),
		d(8, "h4", "Tech Fleece Hoodie", "Lightweight fleece hoodie for running.", northpeak, "hoodies", "Hoodies & Sweatshirts", "fleece slim fit", 6900, true),
		d(9, "s1", "Trail Running Sneakers", "Grippy sneakers for muddy trails.", trailhead, "sneakers", "Sneakers", "mesh", 11900, true),
		d(10, "s2", "Canvas Low Sneakers", "Everyday canvas sneakers with rubber soles.", urbanite, "sneakers", "Sneakers", "canvas", 3900, true),
		d(11, "s3", "Leather Court Sneakers", "Minimal white leather sneakers.", urbanite, "sneakers", "Sneakers", "leather", 8900, true),
		d(12, "s4", "Knit Sneakers", "Breathable knit upper, recycled sole.", fjordline, "sneakers", "Sneakers", "knit recycled", 7400, false),
		d(13, "b1", "Waterproof Hiking Boots", "Leather hiking boots with a waterproof membrane.", northpeak, "boots", "Boots", "leather waterproof", 16900, true),
		d(14, "b2", "Chelsea Boots", "Suede chelsea boots for town.", urbanite, "boots", "Boots", "suede", 13900, true),
		d(15, "b3", "Winter Snow Boots", "Insulated boots rated to minus thirty.", fjordline, "boots", "Boots", "insulated waterproof", 19900, true),
		d(16, "b4", "Rubber Rain Boots", "Tall rubber boots for puddles.", trailhead, "boots", "Boots", "rubber", 2900, true),
		d(17, "p1", "Daypack 20L", "Compact backpack for day hikes, fits a rain jacket.", trailhead, "backpacks", "Backpacks", "nylon", 6400, true),
		d(18, "p2", "Expedition Backpack 65L", "Big backpack for multi-day treks.", northpeak, "backpacks", "Backpacks", "nylon", 24900, true),
		d(19, "p3", "Laptop Backpack", "Padded laptop sleeve and water bottle pocket.", urbanite, "backpacks", "Backpacks", "polyester", 8400, true),
		d(20, "p4", "Roll-Top Dry Bag", "Waterproof roll-top bag for kayaks.", fjordline, "backpacks", "Backpacks", "waterproof", 3400, true),
		d(21, "c1", "Camp Lantern", "Rechargeable LED lantern with warm light.", trailhead, "camping", "Camping Gear", "led rechargeable", 3900, true),
		d(22, "c2", "Insulated Water Bottle", htmlDescription, fjordline, "camping", "Camping Gear", "steel", 2500, true),
		d(23, "c3", "Two-Person Tent", "Freestanding tent; pairs well with our lantern.", northpeak, "camping", "Camping Gear", "nylon", 29900, true),
		d(24, "c4", "Sleeping Bag", "Mummy sleeping bag rated to minus five.", northpeak, "camping", "Camping Gear", "down", 17900, true),
		d(25, "c5", "Camping Stove", "Compact gas stove that boils water in three minutes.", trailhead, "camping", "Camping Gear", "steel", 4900, true),
		d(26, "c6", "Folding Camp Chair", "Lightweight folding chair with cup holder.", urbanite, "camping", "Camping Gear", "aluminium", 4500, true),
		d(27, "m1", "Merino Base Layer", "Merino wool top that stays fresh.", fjordline, "base-layers", "Base Layers", "merino wool", 6900, true),
		d(28, "x1", "Wool Beanie", "Ribbed merino wool beanie.", fjordline, "accessories", "Accessories", "wool", 1900, true),
		d(29, "x2", "Trucker Cap", "Mesh back cap with embroidered logo.", urbanite, "accessories", "Accessories", "mesh", 2200, true),
		d(30, "x3", "Insulated Gloves", "Touchscreen gloves with waterproof insert.", northpeak, "accessories", "Accessories", "insulated waterproof", 3900, true),
	}
}

// generated returns n look-alike documents with IDs prefix000, prefix001, …,
// all titled "Gift Card" and priced alike, so that they score the same and
// their order is decided by ID alone.
func generated(prefix string, n int) []search.Document {
	docs := make([]search.Document, n)
	for i := range docs {
		docs[i] = search.Document{
			ID:           fmt.Sprintf("%s%03d", prefix, i),
			Slug:         fmt.Sprintf("gift-card-%03d", i),
			Title:        "Gift Card",
			Description:  "A gift card for the shop.",
			Brand:        "Emporium",
			Category:     "gifts",
			CategoryName: "Gifts",
			Price:        5000,
			InStock:      true,
			Created:      time.Date(2025, time.April, 1, 0, 0, 0, 0, time.UTC),
		}
	}
	return docs
}
