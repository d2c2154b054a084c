package seed

import "strings"

// The demo brands (fictional). Several span more than one category, so the
// brand facet means something across the catalog.
const (
	brandNorthwind = "Northwind"
	brandFjellstad = "Fjellstad"
	brandRidgeback = "Ridgeback"
	brandTidewater = "Tidewater"
	brandAlder     = "Alder & Pine"
	brandKestrel   = "Kestrel"
	brandStride    = "Stridewell"
	brandMarlow    = "Marlow & Finch"
	brandHalden    = "Halden"
	brandSolace    = "Solace Audio"
	brandBramble   = "Bramblewood"
	brandCopper    = "Copperline"
	brandHanzo     = "Hanzo Forge"
	brandLumen     = "Lumen & Co."
	brandOakhurst  = "Oakhurst"
)

// Variant options shared by several categories.

func apparelSizes() axis {
	return axis{
		key:      "size",
		values:   []string{"S", "M", "L", "XL"},
		permille: []int{1000, 1000, 1000, 1040},
		min:      2, max: 4, mode: pickContiguous,
	}
}

func colours(key string, min, max int, values ...string) axis {
	return axis{key: key, values: values, min: min, max: max, mode: pickAny}
}

func euSizes() axis {
	return axis{
		key:    "size",
		values: []string{"EU 37", "EU 38", "EU 39", "EU 40", "EU 41", "EU 42", "EU 43", "EU 44", "EU 45", "EU 46"},
		min:    3, max: 6, mode: pickContiguous,
	}
}

func lowerScent(m string) string { return "scented with " + strings.ToLower(m) }

func fromOrigin(m string) string { return "from " + m }

// categorySpecs returns the catalog's tables. It builds them anew on each
// call, so nothing is shared between calls.
func categorySpecs() []*categorySpec {
	caffeinated := []string{"Arabica", "Organic Arabica", "Direct-trade Arabica"}
	return []*categorySpec{
		{
			Category: Category{
				Slug:        "jackets",
				Name:        "Jackets & Coats",
				Description: "Insulated, waxed and waterproof jackets and coats for cold, wet and windy days.",
			},
			code: "JKT", outerwear: true, lo: 89, hi: 420,
			brands: []string{brandNorthwind, brandFjellstad, brandRidgeback, brandAlder},
			nouns: []noun{
				{name: "Shell Jacket", mats: []string{"Recycled nylon"}},
				{name: "Puffer Jacket", mats: []string{"Goose down", "Recycled polyester"}},
				{name: "Field Jacket", mats: []string{"Waxed cotton", "Organic cotton canvas"}},
				{name: "Parka", mats: []string{"Goose down", "Recycled polyester", "Recycled nylon"}},
				{name: "Quilted Jacket", mats: []string{"Recycled polyester", "Waxed cotton"}},
				{name: "Overcoat", mats: []string{"Wool blend"}},
				{name: "Biker Jacket", mats: []string{"Lambskin leather"}},
				{name: "Chore Coat", mats: []string{"Organic cotton canvas", "Waxed cotton"}},
				{name: "Mid-Layer Jacket", mats: []string{"Recycled fleece"}},
			},
			adjs:        []string{"Packable", "Lightweight", "Heritage", "Classic", "Relaxed", "Cropped", "Longline", "Hooded", "Storm", "Everyday"},
			models:      []string{"Summit", "Harbour", "Ridge", "Fjord", "Cascade", "Tundra", "Glacier", "Moraine", "Kettle", "Halvard"},
			modelChance: 55,
			mats: []material{
				{name: "Goose down", title: "Down", phrase: "responsibly sourced 700-fill goose down inside a windproof recycled nylon shell", extra: []kv{{"insulation", "700-fill down"}, {"care", "Machine wash cold, tumble dry with tennis balls"}}},
				{name: "Recycled nylon", title: "Waterproof", phrase: "a waterproof, breathable three-layer recycled nylon with fully taped seams", extra: []kv{{"waterproof rating", "20,000 mm"}, {"care", "Machine wash cold, reproof yearly"}}},
				{name: "Waxed cotton", title: "Waxed Cotton", phrase: "dense waxed cotton that sheds showers and softens with every wear", extra: []kv{{"care", "Sponge clean, re-wax yearly"}}},
				{name: "Organic cotton canvas", title: "Canvas", phrase: "heavyweight organic cotton canvas that breaks in like your favourite jeans", extra: []kv{{"care", "Machine wash cold"}}},
				{name: "Wool blend", title: "Wool", phrase: "a brushed Italian wool blend lined with smooth recycled satin", extra: []kv{{"care", "Dry clean"}}},
				{name: "Lambskin leather", title: "Leather", phrase: "supple full-grain lambskin leather with a quilted cotton lining", extra: []kv{{"care", "Specialist leather clean"}}},
				{name: "Recycled polyester", title: "Insulated", phrase: "lightweight recycled polyester insulation that stays warm even when damp", extra: []kv{{"insulation", "Synthetic"}, {"care", "Machine wash cold"}}},
				{name: "Recycled fleece", title: "Fleece", phrase: "a soft, grid-backed recycled polyester fleece that breathes on the move", extra: []kv{{"care", "Machine wash cold"}}},
			},
			features: []string{
				"A two-way zip, chin guard and fleece-lined hand pockets add comfort.",
				"The adjustable hood fits over a beanie and rolls away into the collar.",
				"Articulated sleeves and a dropped hem keep you covered when you reach.",
				"An inner zip pocket is sized for a phone and a passport.",
			},
			uses: []string{
				"Made for cold commutes, weekend hikes and everything in between.",
				"Built for city winters, long dog walks and early starts.",
				"A dependable layer for travel, trails and rainy-day errands.",
			},
			attrs: []attrSpec{
				{"fit", []string{"Regular", "Relaxed", "Slim"}},
				{"origin", []string{"Portugal", "Lithuania", "Vietnam", "Canada"}},
			},
			axes:  []axis{colours("colour", 1, 2, "Black", "Navy", "Olive", "Sand", "Rust", "Charcoal", "Forest Green"), apparelSizes()},
			scene: "worn on a city street",
		},
		{
			Category: Category{
				Slug:        "rainwear",
				Name:        "Rainwear",
				Description: "Waterproof rain jackets, ponchos and over-trousers that keep the weather out.",
			},
			code: "RNW", outerwear: true, lo: 39, hi: 260,
			brands: []string{brandNorthwind, brandTidewater, brandFjellstad},
			nouns: []noun{
				{name: "Rain Jacket"},
				{name: "Poncho", mats: []string{"Recycled nylon", "Ripstop polyester"}},
				{
					name: "Rain Trousers", article: "a pair of", mats: []string{"Recycled nylon", "Ripstop polyester"},
					adjs:     []string{"Packable", "Lightweight", "Breathable", "Classic", "Storm"},
					features: []string{"Full-length side zips let you pull them on over boots.", "An elasticated waist and adjustable ankles keep the rain out."},
				},
				{name: "Sailing Jacket", mats: []string{"Recycled nylon", "Rubberised cotton"}},
				{name: "Anorak", mats: []string{"Recycled nylon", "Bonded organic cotton"}},
				{name: "Raincoat", mats: []string{"Rubberised cotton", "Bonded organic cotton"}},
				{name: "Rain Cape", mats: []string{"Ripstop polyester", "Rubberised cotton"}},
			},
			adjs:        []string{"Packable", "Lightweight", "Longline", "Hooded", "Classic", "Coastal", "Breathable", "Storm"},
			models:      []string{"Drizzle", "Squall", "Harbour", "Tidal", "Monsoon", "Skerry", "Puffin", "Breakwater"},
			modelChance: 55,
			mats: []material{
				{name: "Rubberised cotton", title: "Rubberised", phrase: "rubberised cotton with welded seams that stays waterproof in a downpour"},
				{name: "Recycled nylon", title: "Waterproof", phrase: "a waterproof 2.5-layer recycled nylon with taped seams and a PFC-free finish"},
				{name: "Bonded organic cotton", title: "Bonded Cotton", phrase: "bonded organic cotton with a waterproof membrane hidden inside"},
				{name: "Ripstop polyester", title: "Ripstop", phrase: "a featherweight waterproof ripstop polyester that packs down to the size of an apple"},
			},
			features: []string{
				"Sealed seams and a storm flap over the zip keep water out.",
				"A peaked hood with a wired brim keeps rain off your face.",
				"Underarm vents let heat escape on climbs.",
				"Reflective details help you stay visible on dark evenings.",
			},
			uses: []string{
				"Ideal for wet commutes, festivals and coastal walks.",
				"Keeps you dry on the school run, the ferry and the fells.",
				"Rolls into a bag so it is always there when the forecast turns.",
			},
			attrs: []attrSpec{
				{"fit", []string{"Regular", "Relaxed"}},
				{"waterproof rating", []string{"10,000 mm", "15,000 mm", "20,000 mm"}},
				{"origin", []string{"Portugal", "Vietnam", "Scotland"}},
			},
			axes:  []axis{colours("colour", 1, 2, "Yellow", "Navy", "Black", "Red", "Olive", "Stone"), apparelSizes()},
			scene: "worn in the rain",
		},
		{
			Category: Category{
				Slug:        "knitwear",
				Name:        "Knitwear",
				Description: "Jumpers, cardigans and knitted layers in merino, lambswool, cashmere and organic cotton.",
			},
			code: "KNT", lo: 39, hi: 220,
			brands: []string{brandAlder, brandNorthwind, brandFjellstad},
			nouns: []noun{
				{name: "Crew Neck Jumper"}, {name: "Cardigan"}, {name: "Roll Neck Jumper"},
				{name: "Half-Zip Sweater"}, {name: "Fisherman Sweater"}, {name: "V-Neck Jumper"}, {name: "Knitted Vest"},
			},
			adjs:        []string{"Chunky", "Ribbed", "Relaxed", "Cable-Knit", "Classic", "Oversized", "Fine-Knit", "Textured"},
			models:      []string{"Isla", "Brodie", "Fenwick", "Harris", "Lomond", "Skye", "Tay", "Morven"},
			modelChance: 45,
			mats: []material{
				{name: "Merino wool", title: "Merino", phrase: "extra-fine merino wool that regulates temperature and resists odour"},
				{name: "Lambswool", title: "Lambswool", phrase: "soft Scottish lambswool, spun and knitted in small batches"},
				{name: "Cashmere", title: "Cashmere", phrase: "pure Mongolian cashmere with a brushed, cloud-soft handle"},
				{name: "Organic cotton", title: "Organic Cotton", phrase: "breathable organic cotton in a textured knit"},
				{name: "Alpaca blend", title: "Alpaca", phrase: "a warm alpaca and wool blend with a light, airy loft"},
			},
			features: []string{
				"Ribbed cuffs and hem hold their shape wash after wash.",
				"Fully fashioned shoulders give a clean, tailored line.",
				"Knitted on traditional frames for a dense, durable fabric.",
			},
			uses: []string{
				"Layer it over a shirt for the office or under a jacket on cold walks.",
				"A cosy layer for autumn evenings, travel and weekends away.",
			},
			attrs: []attrSpec{
				{"fit", []string{"Regular", "Relaxed", "Oversized"}},
				{"gauge", []string{"5 gauge", "7 gauge", "12 gauge"}},
				{"origin", []string{"Scotland", "Italy", "Peru", "Portugal"}},
				{"care", []string{"Hand wash", "Wool-cycle wash", "Dry clean"}},
			},
			axes:  []axis{colours("colour", 1, 2, "Oatmeal", "Navy", "Charcoal", "Bottle Green", "Burgundy", "Ecru", "Camel"), apparelSizes()},
			scene: "folded on a wooden shelf",
		},
		{
			Category: Category{
				Slug:        "t-shirts",
				Name:        "T-Shirts & Tops",
				Description: "Everyday tees, long sleeves and polos in organic cotton, linen and merino.",
			},
			code: "TSH", lo: 15, hi: 65,
			brands: []string{brandAlder, brandTidewater, brandKestrel},
			nouns: []noun{
				{name: "T-Shirt"}, {name: "Pocket Tee"}, {name: "Long Sleeve Tee"},
				{name: "Polo Shirt", mats: []string{"Cotton pique", "Organic cotton", "Merino wool"}},
				{name: "Henley"}, {name: "Tank Top"}, {name: "Raglan Tee"},
			},
			adjs:        []string{"Heavyweight", "Essential", "Relaxed", "Boxy", "Classic", "Washed", "Slim", "Vintage"},
			models:      []string{"Daily", "Dune", "Marina", "Shoreline", "Sunday", "Pier"},
			modelChance: 30,
			mats: []material{
				{name: "Organic cotton", title: "Organic Cotton", phrase: "soft, GOTS-certified organic cotton jersey"},
				{name: "Slub cotton", title: "Slub Cotton", phrase: "textured slub cotton with a lived-in feel"},
				{name: "Linen", title: "Linen", phrase: "breathable European linen that gets softer with every wash"},
				{name: "Merino wool", title: "Merino", phrase: "lightweight merino wool jersey that stays fresh for days"},
				{name: "Hemp blend", title: "Hemp", phrase: "a durable blend of hemp and organic cotton"},
				{name: "Cotton pique", title: "Pique", phrase: "breathable organic cotton pique with a fine honeycomb texture"},
			},
			features: []string{
				"Pre-shrunk and garment-dyed for a soft, broken-in feel.",
				"Taped shoulder seams keep the shape after countless washes.",
				"A slightly longer back hem stays tucked in.",
			},
			uses: []string{
				"Wear it on its own in summer or as a base layer all year.",
				"An everyday staple for weekends, travel and the gym.",
			},
			attrs: []attrSpec{
				{"fit", []string{"Regular", "Relaxed", "Slim", "Boxy"}},
				{"fabric weight", []string{"160 gsm", "180 gsm", "220 gsm"}},
				{"origin", []string{"Portugal", "Turkey", "India", "Peru"}},
			},
			axes:  []axis{colours("colour", 1, 2, "White", "Black", "Heather Grey", "Navy", "Sage", "Terracotta", "Washed Blue"), apparelSizes()},
			scene: "worn at the beach",
		},
		{
			Category: Category{
				Slug:        "sneakers",
				Name:        "Sneakers",
				Description: "Everyday, running and court sneakers with cushioned soles for all-day comfort.",
			},
			code: "SNK", lo: 59, hi: 190,
			brands: []string{brandKestrel, brandStride},
			nouns: []noun{
				{name: "Court Sneaker", mats: []string{"Full-grain leather", "Suede", "Organic cotton canvas"}},
				{name: "Running Shoe", mats: []string{"Recycled knit", "Engineered mesh"}},
				{name: "Trail Runner", mats: []string{"Engineered mesh", "Recycled knit"}},
				{name: "Canvas Sneaker", mats: []string{"Organic cotton canvas"}},
				{name: "Slip-On Sneaker", mats: []string{"Organic cotton canvas", "Suede", "Recycled knit"}},
				{name: "High-Top Sneaker", mats: []string{"Full-grain leather", "Suede", "Organic cotton canvas"}},
				{name: "Retro Trainer", mats: []string{"Suede", "Full-grain leather", "Engineered mesh"}},
			},
			adjs:        []string{"Lightweight", "Classic", "Low", "Everyday", "Cushioned", "Minimal", "Vintage"},
			models:      []string{"Aero", "Strider", "Pacer", "Volta", "Rally", "Cadence", "Tempo", "Kite"},
			modelChance: 70,
			mats: []material{
				{name: "Full-grain leather", title: "Leather", phrase: "full-grain leather uppers on a stitched natural rubber cupsole"},
				{name: "Suede", title: "Suede", phrase: "soft suede uppers on a grippy gum rubber sole"},
				{name: "Organic cotton canvas", title: "Canvas", phrase: "organic cotton canvas on a vulcanised rubber sole"},
				{name: "Recycled knit", title: "Knit", phrase: "a breathable recycled-polyester knit upper over a responsive foam midsole"},
				{name: "Engineered mesh", title: "Waterproof", phrase: "engineered mesh with a waterproof membrane and a lugged rubber outsole"},
			},
			features: []string{
				"A removable cork footbed moulds to your foot.",
				"Reinforced heel counters keep every step stable.",
				"Two sets of laces come in the box.",
			},
			uses: []string{
				"Made for long city days, travel and easy weekend runs.",
				"Comfortable from the morning commute to the evening walk home.",
			},
			attrs: []attrSpec{
				{"colour", []string{"White", "Off-White", "Black", "Grey", "Navy", "Sand"}},
				{"sole", []string{"Natural rubber", "Gum rubber", "EVA foam"}},
				{"origin", []string{"Portugal", "Vietnam", "Italy", "Brazil"}},
			},
			axes:  []axis{euSizes()},
			scene: "on a running track",
		},
		{
			Category: Category{
				Slug:        "boots",
				Name:        "Boots",
				Description: "Hiking, work and Chelsea boots built to be resoled and worn for years.",
			},
			code: "BOT", lo: 99, hi: 340,
			brands: []string{brandRidgeback, brandFjellstad, brandStride},
			nouns: []noun{
				{name: "Hiking Boot", mats: []string{"Full-grain leather", "Nubuck"}},
				{name: "Chelsea Boot", mats: []string{"Full-grain leather", "Waxed suede"}},
				{name: "Work Boot", mats: []string{"Full-grain leather", "Nubuck"}},
				{name: "Chukka Boot", mats: []string{"Waxed suede", "Full-grain leather"}},
				{name: "Winter Boot", mats: []string{"Nubuck", "Full-grain leather"}},
				{name: "Lace-Up Boot", mats: []string{"Full-grain leather", "Waxed suede", "Nubuck"}},
				{name: "Rain Boot", mats: []string{"Natural rubber"}},
			},
			adjs:        []string{"Classic", "Rugged", "Insulated", "Heritage", "Lightweight", "Waterproof", "Lug-Sole"},
			models:      []string{"Ridgeline", "Cairn", "Ember", "Foundry", "Scree", "Hollis", "Talus"},
			modelChance: 60,
			mats: []material{
				{name: "Full-grain leather", title: "Leather", phrase: "oiled full-grain leather on a Goodyear-welted, resoleable sole"},
				{name: "Waxed suede", title: "Suede", phrase: "water-repellent waxed suede on a cushioned crepe sole"},
				{name: "Nubuck", title: "Nubuck", phrase: "waterproof nubuck leather with a breathable membrane"},
				{name: "Natural rubber", title: "Rubber", phrase: "hand-laid natural rubber that is fully waterproof"},
			},
			features: []string{
				"A deep-lug rubber outsole grips on wet rock and city pavement.",
				"Speed hooks make lacing quick, even with gloves on.",
				"A padded collar and leather lining ease the break-in.",
			},
			uses: []string{
				"Built for muddy trails, building sites and winter streets.",
				"Made to be resoled, so they carry you for many seasons.",
			},
			attrs: []attrSpec{
				{"colour", []string{"Tan", "Dark Brown", "Black", "Oxblood"}},
				{"origin", []string{"Portugal", "England", "Spain", "Mexico"}},
				{"construction", []string{"Goodyear welt", "Cemented", "Stitchdown"}},
			},
			axes:  []axis{euSizes()},
			scene: "on a muddy trail",
		},
		{
			Category: Category{
				Slug:        "backpacks",
				Name:        "Backpacks",
				Description: "Daypacks, laptop backpacks and travel packs that carry comfortably all day.",
			},
			code: "BPK", lo: 39, hi: 260,
			brands: []string{brandNorthwind, brandFjellstad, brandMarlow, brandKestrel},
			nouns: []noun{
				{name: "Daypack"},
				{name: "Laptop Backpack"},
				{name: "Roll-Top Backpack", mats: []string{"Tarpaulin", "Recycled nylon", "Waxed canvas"}},
				{name: "Travel Backpack", mats: []string{"Recycled nylon", "Ripstop polyester", "Waxed canvas"}},
				{name: "Hiking Pack", mats: []string{"Recycled nylon", "Ripstop polyester"}},
				{name: "Commuter Backpack"},
				{name: "Mini Backpack", mats: []string{"Leather", "Waxed canvas", "Recycled nylon"}},
			},
			adjs:        []string{"Lightweight", "Everyday", "Expandable", "Compact", "Classic", "Urban"},
			models:      []string{"Tramline", "Voyager", "Ridge", "Metro", "Haul", "Basin", "Alto"},
			modelChance: 60,
			mats: []material{
				{name: "Recycled nylon", title: "Recycled Nylon", phrase: "abrasion-resistant recycled nylon with a water-repellent coating"},
				{name: "Waxed canvas", title: "Waxed Canvas", phrase: "waxed organic cotton canvas with leather trims"},
				{name: "Tarpaulin", title: "Waterproof", phrase: "welded waterproof tarpaulin that shrugs off downpours"},
				{name: "Leather", title: "Leather", phrase: "vegetable-tanned leather that develops a rich patina"},
				{name: "Ripstop polyester", title: "Ripstop", phrase: "lightweight ripstop polyester spun from recycled bottles"},
			},
			features: []string{
				"A padded sleeve fits a 16-inch laptop.",
				"A hidden back-panel pocket keeps your passport and wallet close.",
				"A ventilated back panel and padded straps spread the load.",
			},
			uses: []string{
				"Ideal for commuting, day hikes and carry-on travel.",
				"Carries a laptop, lunch and a spare layer with room to spare.",
			},
			attrs: []attrSpec{
				{"capacity", []string{"12 L", "18 L", "22 L", "28 L", "35 L"}},
				{"origin", []string{"Vietnam", "Portugal", "USA"}},
				{"warranty", []string{"Lifetime", "5 years"}},
			},
			axes:  []axis{colours("colour", 1, 4, "Black", "Charcoal", "Olive", "Navy", "Sand", "Rust", "Forest Green")},
			scene: "on a hiking trail",
		},
		{
			Category: Category{
				Slug:        "wallets",
				Name:        "Wallets & Leather Goods",
				Description: "Slim wallets, cardholders and small leather goods, cut and stitched to last.",
			},
			code: "WLT", lo: 19, hi: 149,
			brands: []string{brandMarlow, brandRidgeback, brandAlder},
			nouns: []noun{
				{name: "Bifold Wallet"}, {name: "Cardholder"}, {name: "Zip Wallet"}, {name: "Coin Pouch"},
				{name: "Passport Cover"}, {name: "Key Case"}, {name: "Travel Wallet"},
			},
			adjs:        []string{"Slim", "Minimalist", "Classic", "Compact", "RFID-Blocking", "Everyday"},
			models:      []string{"Ledger", "Parcel", "Foxley", "Harlow", "Sutton", "Brisk"},
			modelChance: 50,
			mats: []material{
				{name: "Full-grain leather", title: "Leather", phrase: "full-grain vegetable-tanned leather, hand-stitched with waxed linen thread"},
				{name: "Pebbled leather", title: "Pebbled Leather", phrase: "durable pebbled leather that hides everyday scratches"},
				{name: "Recycled canvas", title: "Canvas", phrase: "recycled cotton canvas with a leather trim"},
				{name: "Cork", title: "Cork", phrase: "light, water-resistant cork fabric, a plant-based alternative to leather"},
			},
			features: []string{
				"Holds up to eight cards and folded notes.",
				"An RFID-blocking lining protects contactless cards.",
				"The edges are burnished and painted by hand.",
			},
			uses: []string{
				"Slim enough for a front pocket or a jacket's inner pocket.",
				"A thoughtful gift that will be carried for years.",
			},
			attrs: []attrSpec{
				{"origin", []string{"Italy", "Spain", "England", "Portugal"}},
				{"card slots", []string{"4", "6", "8", "12"}},
			},
			axes:  []axis{colours("colour", 1, 4, "Tan", "Dark Brown", "Black", "Navy", "Cognac", "Forest Green")},
			scene: "on a desk with keys and a phone",
		},
		{
			Category: Category{
				Slug:        "watches",
				Name:        "Watches",
				Description: "Automatic, quartz and solar watches with sapphire crystals and everyday water resistance.",
			},
			code: "WCH", lo: 89, hi: 780,
			brands: []string{brandHalden, brandMarlow, brandKestrel},
			nouns: []noun{
				{name: "Field Watch"}, {name: "Dive Watch"}, {name: "Dress Watch"}, {name: "Chronograph"},
				{name: "GMT Watch"}, {name: "Pilot Watch"}, {name: "Everyday Watch"},
			},
			adjs:        []string{"Classic", "Slim", "Vintage", "Heritage", "Sport", "Minimal"},
			models:      []string{"Meridian", "Polaris", "Sextant", "Fathom", "Tern", "Orbit", "Equinox", "Kompass"},
			modelChance: 80,
			mats: []material{
				{name: "Stainless steel", title: "Steel", phrase: "a brushed 316L stainless steel case under a sapphire crystal"},
				{name: "Titanium", title: "Titanium", phrase: "a light grade 2 titanium case under a scratch-resistant sapphire crystal"},
				{name: "Bronze", title: "Bronze", phrase: "a bronze case that develops its own patina over time"},
			},
			matKey: "case material",
			features: []string{
				"Water resistant to 100 metres.",
				"A luminous dial and hands stay readable in the dark.",
				"Comes with a quick-release Italian leather strap.",
			},
			uses: []string{
				"Tough enough for every day, smart enough for the office.",
				"A watch to wear on hikes, at the desk and at dinner.",
			},
			attrs: []attrSpec{
				{"movement", []string{"Automatic", "Quartz", "Solar"}},
				{"case size", []string{"36 mm", "38 mm", "40 mm", "42 mm"}},
				{"water resistance", []string{"50 m", "100 m", "200 m"}},
				{"origin", []string{"Switzerland", "Japan", "Denmark"}},
			},
			axes: []axis{{
				key:      "strap",
				values:   []string{"Leather Strap", "Steel Bracelet", "Nylon Strap", "Rubber Strap"},
				permille: []int{1000, 1150, 950, 1000},
				min:      1, max: 3, mode: pickAny,
			}},
			scene: "on a wrist",
		},
		{
			Category: Category{
				Slug:        "headphones",
				Name:        "Headphones",
				Description: "Wireless, noise-cancelling and wired headphones for music, calls and travel.",
			},
			code: "HPH", lo: 29, hi: 450,
			brands: []string{brandSolace, brandKestrel},
			nouns: []noun{
				{name: "Over-Ear Headphones", attrs: []kv{{"connectivity", "Bluetooth 5.3"}, {"driver", "40 mm"}}},
				{name: "Wireless Earbuds", mats: []string{"Recycled plastic", "Aluminium"}, attrs: []kv{{"connectivity", "Bluetooth 5.3"}, {"driver", "10 mm"}}},
				{name: "On-Ear Headphones", attrs: []kv{{"connectivity", "Bluetooth 5.3"}, {"driver", "40 mm"}}},
				{name: "Sport Earbuds", mats: []string{"Recycled plastic"}, attrs: []kv{{"connectivity", "Bluetooth 5.3"}, {"driver", "10 mm"}}},
				{
					name: "Studio Headphones", mats: []string{"Aluminium", "Lambskin leather"}, adjs: []string{"Hi-Fi", "Foldable", "Lightweight", "Reference"}, attrs: []kv{{"connectivity", "Wired 3.5 mm"}, {"driver", "50 mm"}, {"battery life", "None needed"}},
					features: []string{"A detachable cable and replaceable ear cushions keep them going for years.", "A flat, detailed sound shows every edit in the mix."},
					uses:     []string{"Made for mixing, practising and long listening sessions at home."},
				},
				{
					name: "Open-Back Headphones", mats: []string{"Aluminium", "Lambskin leather"}, adjs: []string{"Hi-Fi", "Lightweight", "Reference", "Audiophile"}, attrs: []kv{{"connectivity", "Wired 3.5 mm"}, {"driver", "50 mm"}, {"battery life", "None needed"}},
					features: []string{"Open grilles give a wide, natural soundstage.", "A detachable cable and replaceable ear cushions keep them going for years."},
					uses:     []string{"Made for mixing, practising and long listening sessions at home."},
				},
			},
			adjs:        []string{"Wireless", "Noise-Cancelling", "Foldable", "Lightweight", "Hi-Fi", "Compact"},
			models:      []string{"Aria", "Cadenza", "Nocturne", "Halo", "Pulse", "Lyric", "Sonata"},
			modelChance: 75,
			mats: []material{
				{name: "Aluminium", title: "", phrase: "an anodised aluminium frame with memory-foam cushions"},
				{name: "Lambskin leather", title: "Leather", phrase: "lambskin leather ear cushions on a light aluminium headband"},
				{name: "Recycled plastic", title: "", phrase: "tough recycled plastic with a soft-touch finish that is sweat and splash resistant"},
			},
			features: []string{
				"Up to 40 hours of battery life and fast USB-C charging.",
				"Adaptive noise cancelling blocks out engines and office chatter.",
				"Multipoint Bluetooth switches between laptop and phone.",
			},
			uses: []string{
				"Made for long flights, focused work and late-night listening.",
				"Clear calls on the move and rich sound at home.",
			},
			attrs: []attrSpec{
				{"battery life", []string{"24 hours", "30 hours", "40 hours", "60 hours"}},
				{"warranty", []string{"2 years", "3 years"}},
			},
			axes:    []axis{colours("colour", 1, 3, "Black", "Silver", "Sand", "Midnight Blue", "Sage")},
			article: "a pair of",
			scene:   "on a desk next to a laptop",
		},
		{
			Category: Category{
				Slug:        "coffee",
				Name:        "Coffee",
				Description: "Small-batch roasted whole-bean and ground coffee from single farms and co-operatives.",
			},
			code: "COF", lo: 9, hi: 29,
			brands: []string{brandBramble, brandBramble, brandFjellstad},
			nouns: []noun{
				{name: "Espresso", mats: caffeinated}, {name: "Filter Coffee", mats: caffeinated},
				{name: "Whole Bean Coffee", mats: caffeinated},
				{name: "Decaf Coffee", mats: []string{"Water-process decaf Arabica"}},
				{name: "Cold Brew Coffee", mats: caffeinated}, {name: "Single Origin Coffee", mats: caffeinated},
			},
			adjs:    []string{"Light Roast", "Medium Roast", "Dark Roast", "Omni Roast"},
			adjAttr: "roast",
			models: []string{
				"Ethiopia Guji", "Colombia Huila", "Kenya Nyeri", "Brazil Cerrado", "Guatemala Antigua",
				"Peru Cajamarca", "Rwanda Nyamasheke", "Sumatra Gayo", "Costa Rica Tarrazu", "Honduras Marcala",
			},
			modelAttr:   "origin",
			modelPhrase: fromOrigin,
			matKey:      "beans",
			mats: []material{
				{name: "Arabica", phrase: "100% speciality-grade Arabica beans roasted in small batches"},
				{name: "Organic Arabica", title: "Organic", phrase: "certified organic Arabica beans grown by a smallholder co-operative", extra: []kv{{"certification", "Organic"}}},
				{name: "Direct-trade Arabica", title: "Direct Trade", phrase: "Arabica beans bought directly from the farm at a fair, published price"},
				{name: "Water-process decaf Arabica", title: "", phrase: "Arabica beans decaffeinated with nothing but mountain water"},
			},
			features: []string{
				"Expect notes of dark chocolate, cherry and brown sugar.",
				"Roasted to order and shipped within 48 hours.",
				"Packed in a compostable, resealable bag with a one-way valve.",
				"Bright and juicy, with notes of citrus and stone fruit.",
			},
			uses: []string{
				"Brew it in a V60, an AeroPress or a French press.",
				"Pulls sweet, syrupy espresso that stands up to milk.",
				"A rewarding everyday coffee for filter, moka pot or cafetiere.",
			},
			attrs: []attrSpec{
				{"process", []string{"Washed", "Natural", "Honey"}},
				{"altitude", []string{"1,200 m", "1,500 m", "1,800 m", "2,000 m"}},
			},
			axes: []axis{{
				key:      "weight",
				values:   []string{"250 g", "500 g", "1 kg"},
				permille: []int{1000, 1850, 3400},
				min:      1, max: 3, mode: pickFromStart,
			}},
			scene: "next to a cup of fresh coffee",
		},
		{
			Category: Category{
				Slug:        "tea",
				Name:        "Tea",
				Description: "Loose-leaf green, black, oolong and white teas sourced directly from growers.",
			},
			code: "TEA", lo: 6, hi: 24,
			brands: []string{brandBramble, brandAlder},
			nouns: []noun{
				{name: "Green Tea"}, {name: "Black Tea"}, {name: "Oolong"}, {name: "White Tea"},
				{name: "Breakfast Tea"}, {name: "Earl Grey"}, {name: "Chai"},
			},
			adjs:        []string{"First Flush", "Second Flush", "Smoky", "Classic", "Bright", "Malty", "Delicate"},
			models:      []string{"Darjeeling", "Assam", "Yunnan", "Ceylon", "Nilgiri", "Kenya", "Fujian", "Nepal"},
			modelAttr:   "origin",
			modelPhrase: fromOrigin,
			matKey:      "leaf",
			mats: []material{
				{name: "Whole leaf", title: "Whole Leaf", phrase: "hand-picked whole leaves, rolled and dried in small batches"},
				{name: "Organic loose leaf", title: "Organic", phrase: "certified organic loose leaf grown without synthetic pesticides", extra: []kv{{"certification", "Organic"}}},
				{name: "Broken leaf", title: "", phrase: "finely broken leaves that brew a strong, quick cup"},
			},
			features: []string{
				"Steep at 85 °C for two to three minutes.",
				"Each 50 g makes around twenty generous cups.",
				"Packed in a resealable, light-proof tin.",
			},
			uses: []string{
				"A calm afternoon cup that also makes excellent iced tea.",
				"Brew it strong with milk for a proper morning cup.",
				"Re-steep the leaves two or three times through the day.",
			},
			attrs: []attrSpec{
				{"caffeine", []string{"Low", "Medium", "High"}},
			},
			axes: []axis{{
				key:      "weight",
				values:   []string{"50 g", "100 g", "250 g"},
				permille: []int{1000, 1800, 3900},
				min:      1, max: 3, mode: pickFromStart,
			}},
			scene: "brewing in a glass teapot",
		},
		{
			Category: Category{
				Slug:        "kitchen-knives",
				Name:        "Kitchen Knives",
				Description: "Chef's knives, santokus and paring knives forged from high-carbon and Damascus steel.",
			},
			code: "KNF", lo: 29, hi: 320,
			brands: []string{brandHanzo, brandHanzo, brandCopper},
			nouns: []noun{
				{name: "Chef's Knife", attrs: []kv{{"blade length", "21 cm"}}},
				{name: "Santoku Knife", attrs: []kv{{"blade length", "18 cm"}}},
				{name: "Paring Knife", attrs: []kv{{"blade length", "9 cm"}}},
				{name: "Bread Knife", attrs: []kv{{"blade length", "23 cm"}}},
				{name: "Utility Knife", attrs: []kv{{"blade length", "15 cm"}}},
				{name: "Nakiri Knife", attrs: []kv{{"blade length", "17 cm"}}},
				{name: "Carving Knife", attrs: []kv{{"blade length", "24 cm"}}},
				{name: "Boning Knife", attrs: []kv{{"blade length", "15 cm"}}},
			},
			adjs:        []string{"Professional", "Hand-Forged", "Classic", "Western-Style", "Lightweight"},
			models:      []string{"Kaze", "Tsuru", "Hoshi", "Kumo", "Sora", "Mizu", "Ryu"},
			modelChance: 60,
			matKey:      "steel",
			mats: []material{
				{name: "Damascus steel", title: "Damascus", phrase: "67-layer Damascus steel around a hard VG-10 core"},
				{name: "High-carbon stainless steel", title: "High-Carbon", phrase: "high-carbon stainless steel hardened to 60 HRC"},
				{name: "Carbon steel", title: "Carbon Steel", phrase: "reactive carbon steel that takes a razor edge and builds a patina"},
			},
			features: []string{
				"An octagonal walnut handle sits securely in a pinch grip.",
				"A full tang and riveted olive-wood handle give it perfect balance.",
				"Ships razor sharp with a leather blade guard.",
			},
			uses: []string{
				"Handles everyday slicing, dicing and mincing with ease.",
				"Hand wash and dry after use to keep the edge keen.",
			},
			attrs: []attrSpec{
				{"handle", []string{"Walnut", "Olive wood", "Pakkawood", "Micarta"}},
				{"origin", []string{"Japan", "Germany"}},
			},
			scene: "on a chopping board with vegetables",
		},
		{
			Category: Category{
				Slug:        "cookware",
				Name:        "Cookware",
				Description: "Cast-iron, carbon-steel and stainless pans and pots for every kind of hob.",
			},
			code: "CKW", lo: 25, hi: 280,
			brands: []string{brandCopper, brandFjellstad, brandOakhurst},
			nouns: []noun{
				{name: "Frying Pan"}, {name: "Skillet", mats: []string{"Cast iron", "Carbon steel"}}, {name: "Saucepan", mats: []string{"Tri-ply stainless steel", "Copper", "Enamelled cast iron"}},
				{name: "Casserole Dish", mats: []string{"Enamelled cast iron", "Cast iron"}}, {name: "Wok", mats: []string{"Carbon steel", "Cast iron"}},
				{name: "Saute Pan"}, {name: "Stockpot", mats: []string{"Tri-ply stainless steel", "Enamelled cast iron"}}, {name: "Griddle Pan", mats: []string{"Cast iron", "Carbon steel"}},
			},
			adjs:        []string{"Classic", "Professional", "Deep", "Lightweight", "Heritage", "Everyday"},
			models:      []string{"Forge", "Hearth", "Bistro", "Atelier", "Foundry"},
			modelChance: 35,
			mats: []material{
				{name: "Cast iron", title: "Cast Iron", phrase: "pre-seasoned cast iron that holds heat for perfect searing", extra: []kv{{"dishwasher safe", "No"}}},
				{name: "Carbon steel", title: "Carbon Steel", phrase: "spun carbon steel that heats fast and becomes naturally non-stick", extra: []kv{{"dishwasher safe", "No"}}},
				{name: "Tri-ply stainless steel", title: "Stainless Steel", phrase: "tri-ply stainless steel with an aluminium core for even heating", extra: []kv{{"dishwasher safe", "Yes"}}},
				{name: "Enamelled cast iron", title: "Enamelled", phrase: "enamelled cast iron in a glossy, easy-clean finish", extra: []kv{{"dishwasher safe", "Yes"}}},
				{name: "Copper", title: "Copper", phrase: "hammered copper lined with stainless steel", extra: []kv{{"dishwasher safe", "No"}}},
			},
			features: []string{
				"Oven safe to 260 °C and works on induction.",
				"A helper handle makes it easy to lift when full.",
				"A lifetime guarantee covers the body and handles.",
			},
			uses: []string{
				"Sears steak, bakes cornbread and goes from hob to table.",
				"An everyday workhorse for sauces, stews and Sunday roasts.",
			},
			attrs: []attrSpec{
				{"hob", []string{"All hobs, including induction", "Gas and electric"}},
				{"origin", []string{"France", "USA", "Italy", "Sweden"}},
			},
			axes: []axis{{
				key:      "size",
				values:   []string{"20 cm", "24 cm", "28 cm", "32 cm"},
				permille: []int{1000, 1200, 1400, 1650},
				min:      1, max: 3, mode: pickContiguous,
			}},
			scene: "on a stove",
		},
		{
			Category: Category{
				Slug:        "water-bottles",
				Name:        "Water Bottles",
				Description: "Insulated and lightweight bottles that keep drinks cold for a day and hot for hours.",
			},
			code: "BTL", lo: 12, hi: 49,
			brands: []string{brandKestrel, brandFjellstad, brandNorthwind},
			nouns: []noun{
				{name: "Water Bottle"},
				{name: "Insulated Bottle", mats: []string{"Stainless steel"}},
				{name: "Sports Bottle", mats: []string{"Tritan", "Stainless steel"}},
				{name: "Travel Mug", mats: []string{"Stainless steel"}},
				{name: "Trail Flask", mats: []string{"Titanium", "Stainless steel"}},
				{name: "Kids' Bottle", mats: []string{"Tritan", "Stainless steel"}},
			},
			adjs:        []string{"Leakproof", "Wide-Mouth", "Slim", "Everyday", "Lightweight", "Classic"},
			models:      []string{"Spring", "Glacier", "Summit", "Current", "Oasis", "Rill"},
			modelChance: 50,
			mats: []material{
				{name: "Stainless steel", title: "Steel", phrase: "double-walled, vacuum-insulated 18/8 stainless steel"},
				{name: "Tritan", title: "", phrase: "shatterproof, BPA-free Tritan plastic"},
				{name: "Glass", title: "Glass", phrase: "borosilicate glass in a protective silicone sleeve"},
				{name: "Titanium", title: "Titanium", phrase: "featherweight titanium that never taints the taste"},
			},
			features: []string{
				"Keeps drinks cold for 24 hours and hot for 12.",
				"The wide mouth takes ice cubes and is easy to clean.",
				"A leakproof lid opens with one hand.",
			},
			uses: []string{
				"Made for the gym, the office and long days on the trail.",
				"Fits most cup holders and bike bottle cages.",
			},
			attrs: []attrSpec{
				{"BPA free", []string{"Yes"}},
				{"origin", []string{"China", "Sweden", "USA"}},
			},
			axes: []axis{{
				key:      "capacity",
				values:   []string{"350 ml", "500 ml", "750 ml", "1 L"},
				permille: []int{1000, 1100, 1250, 1400},
				min:      1, max: 3, mode: pickContiguous,
			}},
			scene: "on a mountain trail",
		},
		{
			Category: Category{
				Slug:        "lamps",
				Name:        "Lamps & Lighting",
				Description: "Desk, floor and pendant lamps with warm, dimmable LED light.",
			},
			code: "LMP", lo: 29, hi: 340,
			brands: []string{brandLumen, brandCopper, brandOakhurst},
			nouns: []noun{
				{name: "Desk Lamp"}, {name: "Floor Lamp"}, {name: "Pendant Light"}, {name: "Table Lamp"},
				{name: "Reading Light"}, {name: "Wall Light"}, {name: "Rechargeable Lamp"},
			},
			adjs:        []string{"Adjustable", "Dimmable", "Minimal", "Mid-Century", "Articulated", "Portable"},
			models:      []string{"Halo", "Orbit", "Lune", "Arc", "Beacon", "Ember", "Solen"},
			modelChance: 65,
			mats: []material{
				{name: "Brass", title: "Brass", phrase: "solid brass that mellows to a warm patina"},
				{name: "Powder-coated steel", title: "Steel", phrase: "powder-coated steel on a weighted base"},
				{name: "Oak", title: "Oak", phrase: "FSC-certified solid oak with a natural linen shade"},
				{name: "Opal glass", title: "Glass", phrase: "mouth-blown opal glass that diffuses a soft glow"},
				{name: "Ceramic", title: "Ceramic", phrase: "hand-glazed ceramic with a braided fabric cable"},
			},
			features: []string{
				"Dims smoothly from candlelight to full brightness.",
				"Comes with a warm 2700 K LED bulb.",
				"A fabric-covered cable and inline switch finish the look.",
			},
			uses: []string{
				"Perfect for reading corners, desks and bedside tables.",
				"Adds soft, even light to a living room or a home office.",
			},
			attrs: []attrSpec{
				{"bulb", []string{"E27 LED, included", "Integrated LED"}},
				{"power", []string{"6 W", "8 W", "10 W"}},
				{"origin", []string{"Denmark", "Portugal", "Sweden"}},
			},
			axes:  []axis{colours("finish", 1, 3, "Brass", "Matte Black", "White", "Sage", "Terracotta")},
			scene: "lighting a reading corner",
		},
		{
			Category: Category{
				Slug:        "bedding",
				Name:        "Bedding",
				Description: "Sheets, duvet covers and pillowcases in percale, sateen, linen and organic cotton.",
			},
			code: "BED", lo: 29, hi: 280,
			brands: []string{brandOakhurst, brandAlder},
			nouns: []noun{
				{name: "Duvet Cover"}, {name: "Fitted Sheet"}, {name: "Flat Sheet"},
				{name: "Pillowcase Pair", axes: []axis{colours("colour", 1, 4, "White", "Oat", "Sage", "Slate Blue", "Terracotta")}},
				{name: "Bedding Set"}, {name: "Quilt"},
			},
			adjs:        []string{"Classic", "Crisp", "Relaxed", "Breathable", "Soft", "Heritage", "Cooling"},
			models:      []string{"Haven", "Drift", "Meadow", "Willow"},
			modelChance: 35,
			mats: []material{
				{name: "Organic cotton percale", title: "Organic Cotton", phrase: "crisp, cool organic cotton percale woven to 200 threads", extra: []kv{{"thread count", "200"}}},
				{name: "Stonewashed linen", title: "Linen", phrase: "stonewashed French flax linen that feels softer every night"},
				{name: "Cotton sateen", title: "Sateen", phrase: "silky long-staple cotton sateen woven to 400 threads", extra: []kv{{"thread count", "400"}}},
				{name: "Bamboo lyocell", title: "Bamboo", phrase: "cooling, moisture-wicking bamboo lyocell"},
			},
			features: []string{
				"Hidden buttons and corner ties keep the duvet in place.",
				"Deep pockets fit mattresses up to 35 cm.",
				"Washed before sewing, so it will not shrink at home.",
			},
			uses: []string{
				"Made for restful nights in every season.",
				"Layer it with a throw for a relaxed, hotel-style bed.",
			},
			attrs: []attrSpec{
				{"origin", []string{"Portugal", "India", "Lithuania"}},
				{"care", []string{"Machine wash at 40 °C", "Machine wash at 60 °C"}},
			},
			axes: []axis{
				colours("colour", 1, 2, "White", "Oat", "Sage", "Slate Blue", "Terracotta"),
				{
					key:      "size",
					values:   []string{"Single", "Double", "King", "Super King"},
					permille: []int{1000, 1250, 1450, 1600},
					min:      2, max: 3, mode: pickContiguous,
				},
			},
			scene: "on a made bed",
		},
		{
			Category: Category{
				Slug:        "candles",
				Name:        "Candles & Home Fragrance",
				Description: "Soy and beeswax candles, diffusers and incense in calm, natural scents.",
			},
			code: "CND", lo: 9, hi: 59,
			brands: []string{brandLumen, brandOakhurst, brandAlder},
			nouns: []noun{
				{name: "Scented Candle", mats: []string{"Soy wax", "Beeswax", "Coconut wax"}, attrs: []kv{{"burn time", "50 hours"}}},
				{name: "Travel Candle", mats: []string{"Soy wax", "Coconut wax"}, attrs: []kv{{"burn time", "20 hours"}}},
				{name: "Reed Diffuser", mats: []string{"Plant-based oils"}, attrs: []kv{{"lasts", "About 3 months"}}},
				{name: "Pillar Candle", mats: []string{"Beeswax", "Soy wax"}, attrs: []kv{{"burn time", "60 hours"}}},
				{name: "Incense Sticks", article: "a box of", mats: []string{"Bamboo and natural resins"}, attrs: []kv{{"contents", "40 sticks"}}},
				{name: "Three-Wick Candle", mats: []string{"Soy wax", "Coconut wax"}, attrs: []kv{{"burn time", "80 hours"}}},
			},
			adjs: []string{"Hand-Poured", "Signature", "Classic", "Small-Batch"},
			models: []string{
				"Fig & Cedar", "Sea Salt & Sage", "Amber & Oud", "Wild Mint", "Bergamot & Vetiver",
				"Black Tea & Plum", "Pine Forest", "Orange Blossom", "Lavender & Linen",
			},
			modelAttr:   "scent",
			modelPhrase: lowerScent,
			mats: []material{
				{name: "Soy wax", title: "Soy", phrase: "natural soy wax with a cotton wick, poured by hand in small batches"},
				{name: "Beeswax", title: "Beeswax", phrase: "pure beeswax that burns with a warm, honeyed glow"},
				{name: "Coconut wax", title: "Coconut Wax", phrase: "a creamy coconut and rapeseed wax blend for a clean, even burn"},
				{name: "Plant-based oils", title: "", phrase: "plant-based fragrance oils in an amber glass bottle with natural rattan reeds"},
				{name: "Bamboo and natural resins", title: "", phrase: "natural resins and essential oils rolled by hand onto bamboo sticks"},
			},
			features: []string{
				"Scented with phthalate-free essential oil blends.",
				"Packed in a recyclable gift box, ready to give.",
				"Made in small batches in our own studio.",
			},
			uses: []string{
				"Brings a calm, natural scent to living rooms, bathrooms and studios.",
				"A simple way to make a home feel warm and lived-in.",
			},
			attrs: []attrSpec{
				{"origin", []string{"England", "Portugal", "Canada"}},
				{"vegan", []string{"Yes"}},
			},
			scene: "on a windowsill",
		},
		{
			Category: Category{
				Slug:        "notebooks",
				Name:        "Notebooks & Stationery",
				Description: "Notebooks, journals, planners and pens for planning, sketching and writing things down.",
			},
			code: "NTB", lo: 5, hi: 39,
			brands: []string{brandMarlow, brandOakhurst},
			nouns: []noun{
				{name: "Notebook", mats: []string{"Recycled paper", "Leather cover", "Linen cover", "Stone paper"}},
				{name: "Journal", mats: []string{"Leather cover", "Linen cover", "Recycled paper"}},
				{
					name: "Sketchbook", mats: []string{"Recycled paper", "Linen cover"},
					axes: []axis{{key: "size", values: []string{"A6", "A5", "A4"}, permille: []int{1000, 1300, 1700}, min: 1, max: 3, mode: pickContiguous}},
				},
				{
					name: "Weekly Planner", mats: []string{"Linen cover", "Leather cover", "Recycled paper"},
					adjs: []string{"Classic", "Lay-Flat", "Dated", "Undated"},
					axes: []axis{{key: "size", values: []string{"A6", "A5"}, permille: []int{1000, 1250}, min: 1, max: 2, mode: pickAny}},
				},
				{
					name: "Pocket Notebook", mats: []string{"Recycled paper", "Stone paper"},
					axes: []axis{colours("ruling", 1, 4, "Dotted", "Lined", "Plain", "Grid")},
				},
				{
					name: "Fountain Pen", mats: []string{"Brass", "Aluminium"}, adjs: []string{"Classic", "Pocket", "Slim", "Refillable"},
					axes:     []axis{colours("nib", 1, 3, "Extra Fine", "Fine", "Medium", "Broad")},
					features: []string{"Takes standard international ink cartridges or a converter.", "A polished steel nib writes smoothly from the first line."},
					uses:     []string{"For journaling, letters and everyday notes.", "Sized to clip into a notebook's pen loop."},
				},
				{name: "Notepad", mats: []string{"Recycled paper"}, adjs: []string{"Classic", "Desk", "Tear-Off"}, standard: true},
			},
			adjs:        []string{"Hardcover", "Softcover", "Lay-Flat", "Classic", "Refillable", "Pocket"},
			models:      []string{"Folio", "Quire", "Margin", "Draft", "Ledger", "Verso"},
			modelChance: 50,
			mats: []material{
				{name: "Recycled paper", title: "Recycled", phrase: "100% recycled, acid-free 100 gsm paper that takes ink without bleeding"},
				{name: "Leather cover", title: "Leather", phrase: "a refillable vegetable-tanned leather cover around 120 gsm ivory paper"},
				{name: "Linen cover", title: "Linen", phrase: "a linen-bound cover and fountain-pen-friendly 90 gsm paper"},
				{name: "Stone paper", title: "Stone Paper", phrase: "waterproof, tear-resistant stone paper pressed from mineral powder"},
				{name: "Brass", title: "Brass", phrase: "a solid brass barrel that ages to a warm patina"},
				{name: "Aluminium", title: "Aluminium", phrase: "a light anodised aluminium barrel"},
			},
			features: []string{
				"Lies flat for writing across the spread.",
				"Numbered pages, an index and two ribbon markers.",
				"An elastic closure and a back pocket hold loose notes.",
			},
			uses: []string{
				"For daily journaling, meeting notes and travel sketches.",
				"Slips into a bag for ideas on the go.",
			},
			attrs: []attrSpec{
				{"origin", []string{"Italy", "England", "Japan"}},
			},
			axes: []axis{
				colours("ruling", 1, 3, "Dotted", "Lined", "Plain", "Grid"),
				{key: "size", values: []string{"A6", "A5"}, permille: []int{1000, 1250}, min: 1, max: 2, mode: pickAny},
			},
			scene: "open on a desk with a pen",
		},
		{
			Category: Category{
				Slug:        "sunglasses",
				Name:        "Sunglasses",
				Description: "Polarised sunglasses in acetate, titanium and recycled frames with UV400 protection.",
			},
			code: "SUN", lo: 25, hi: 240,
			brands: []string{brandTidewater, brandKestrel, brandHalden},
			nouns: []noun{
				{name: "Aviator Sunglasses"}, {name: "Round Sunglasses"}, {name: "Square Sunglasses"},
				{name: "Cat-Eye Sunglasses"}, {name: "Sport Sunglasses"}, {name: "Browline Sunglasses"}, {name: "Oversized Sunglasses"},
			},
			adjs:        []string{"Polarised", "Classic", "Lightweight", "Vintage", "Foldable"},
			models:      []string{"Marin", "Solano", "Cove", "Riviera", "Lido", "Sable"},
			modelChance: 60,
			matKey:      "frame",
			mats: []material{
				{name: "Bio-acetate", title: "Acetate", phrase: "hand-polished, plant-based bio-acetate"},
				{name: "Titanium", title: "Titanium", phrase: "featherweight titanium with adjustable nose pads"},
				{name: "Recycled plastic", title: "Recycled", phrase: "recycled plastic from old fishing nets"},
				{name: "Stainless steel", title: "Metal", phrase: "slim stainless steel with spring hinges"},
			},
			features: []string{
				"Polarised lenses cut glare off water and wet roads.",
				"Spring hinges give a comfortable, secure fit.",
				"Comes with a leather case and a microfibre cloth.",
			},
			uses: []string{
				"Made for beach days, road trips and bright winter walks.",
				"Light enough to forget you are wearing them.",
			},
			attrs: []attrSpec{
				{"lens", []string{"Polarised", "Gradient", "Mirrored"}},
				{"UV protection", []string{"UV400"}},
				{"lens width", []string{"48 mm", "51 mm", "54 mm", "57 mm"}},
			},
			axes:    []axis{colours("colour", 1, 4, "Tortoiseshell", "Black", "Clear Crystal", "Gold", "Havana Brown", "Olive")},
			article: "a pair of",
			scene:   "on a sunny beach",
		},
	}
}
