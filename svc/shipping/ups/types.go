package ups

import (
	"strings"
	"time"
)

// The JSON shapes of UPS's APIs that the adapter uses, with UPS's field
// names. Exported so the fake in upstest speaks the same shapes.

type Request struct {
	RequestOption        string                `json:"RequestOption,omitempty"`
	TransactionReference *TransactionReference `json:"TransactionReference,omitempty"`
}

type TransactionReference struct {
	CustomerContext string `json:"CustomerContext,omitempty"`
}

type Code struct {
	Code        string `json:"Code"`
	Description string `json:"Description,omitempty"`
}

type Address struct {
	AddressLine       []string `json:"AddressLine,omitempty"`
	City              string   `json:"City,omitempty"`
	StateProvinceCode string   `json:"StateProvinceCode,omitempty"`
	PostalCode        string   `json:"PostalCode,omitempty"`
	CountryCode       string   `json:"CountryCode"`
}

type Phone struct {
	Number string `json:"Number"`
}

type Party struct {
	Name          string  `json:"Name,omitempty"`
	AttentionName string  `json:"AttentionName,omitempty"`
	Phone         *Phone  `json:"Phone,omitempty"`
	ShipperNumber string  `json:"ShipperNumber,omitempty"`
	Address       Address `json:"Address"`
}

type Weight struct {
	UnitOfMeasurement Code   `json:"UnitOfMeasurement"`
	Weight            string `json:"Weight"`
}

type Dimensions struct {
	UnitOfMeasurement     Code `json:"UnitOfMeasurement"`
	Length, Width, Height string
}

type Reference struct {
	Code  string `json:"Code,omitempty"`
	Value string `json:"Value"`
}

// Package is a parcel: Rating calls its packaging PackagingType, Shipping
// calls it Packaging; the adapter sends both.
type Package struct {
	PackagingType   *Code       `json:"PackagingType,omitempty"`
	Packaging       *Code       `json:"Packaging,omitempty"`
	Dimensions      *Dimensions `json:"Dimensions,omitempty"`
	PackageWeight   Weight      `json:"PackageWeight"`
	ReferenceNumber []Reference `json:"ReferenceNumber,omitempty"`
}

type RatingOptions struct {
	NegotiatedRatesIndicator string `json:"NegotiatedRatesIndicator,omitempty"`
}

// RateRequest is the body of POST /api/rating/{version}/{Rate|Shop}, under
// "RateRequest".
type RateRequest struct {
	Request  Request      `json:"Request"`
	Shipment RateShipment `json:"Shipment"`
}

type RateShipment struct {
	Shipper               Party          `json:"Shipper"`
	ShipTo                Party          `json:"ShipTo"`
	ShipFrom              *Party         `json:"ShipFrom,omitempty"`
	Service               *Code          `json:"Service,omitempty"`
	Package               []Package      `json:"Package"`
	ShipmentRatingOptions *RatingOptions `json:"ShipmentRatingOptions,omitempty"`
}

type Money struct {
	CurrencyCode  string `json:"CurrencyCode"`
	MonetaryValue string `json:"MonetaryValue"`
}

type Charges struct {
	TotalCharges Money `json:"TotalCharges"`
}

type RatedShipment struct {
	Service               Code  `json:"Service"`
	TotalCharges          Money `json:"TotalCharges"`
	NegotiatedRateCharges *struct {
		TotalCharge Money `json:"TotalCharge"`
	} `json:"NegotiatedRateCharges,omitempty"`
	GuaranteedDelivery *struct {
		BusinessDaysInTransit string `json:"BusinessDaysInTransit"`
	} `json:"GuaranteedDelivery,omitempty"`
}

// ShipmentRequest is the body of POST /api/shipments/{version}/ship, under
// "ShipmentRequest".
type ShipmentRequest struct {
	Request            Request             `json:"Request"`
	Shipment           Shipment            `json:"Shipment"`
	LabelSpecification *LabelSpecification `json:"LabelSpecification,omitempty"`
}

type Shipment struct {
	Description           string              `json:"Description,omitempty"`
	Shipper               Party               `json:"Shipper"`
	ShipTo                Party               `json:"ShipTo"`
	ShipFrom              *Party              `json:"ShipFrom,omitempty"`
	PaymentInformation    *PaymentInformation `json:"PaymentInformation,omitempty"`
	Service               *Code               `json:"Service"`
	Package               []Package           `json:"Package"`
	ShipmentRatingOptions *RatingOptions      `json:"ShipmentRatingOptions,omitempty"`
}

type PaymentInformation struct {
	ShipmentCharge []ShipmentCharge `json:"ShipmentCharge"`
}

type ShipmentCharge struct {
	Type        string       `json:"Type"` // 01 transportation
	BillShipper *BillShipper `json:"BillShipper,omitempty"`
}

type BillShipper struct {
	AccountNumber string `json:"AccountNumber"`
}

type LabelSpecification struct {
	LabelImageFormat Code       `json:"LabelImageFormat"`
	LabelStockSize   *StockSize `json:"LabelStockSize,omitempty"`
}

type StockSize struct {
	Height string `json:"Height"`
	Width  string `json:"Width"`
}

type PackageResults struct {
	TrackingNumber string `json:"TrackingNumber"`
	ShippingLabel  struct {
		ImageFormat  Code   `json:"ImageFormat"`
		GraphicImage string `json:"GraphicImage"`
	} `json:"ShippingLabel"`
}

// TrackResponse is the answer of GET /api/track/v1/details/{inquiryNumber}.
type TrackResponse struct {
	TrackResponse struct {
		Shipment []TrackShipment `json:"shipment"`
	} `json:"trackResponse"`
}

type TrackShipment struct {
	InquiryNumber string `json:"inquiryNumber"`
	Package       []struct {
		TrackingNumber string `json:"trackingNumber"`
		DeliveryDate   []struct {
			Type string `json:"type"`
			Date string `json:"date"`
		} `json:"deliveryDate,omitempty"`
		Activity []Activity `json:"activity"`
	} `json:"package,omitempty"`
	Warnings []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"warnings,omitempty"`
}

type Activity struct {
	Location struct {
		Address TrackAddress `json:"address"`
	} `json:"location"`
	Status    ActivityStatus `json:"status"`
	Date      string         `json:"date"` // YYYYMMDD, local to the scan
	Time      string         `json:"time"` // HHMMSS
	GMTDate   string         `json:"gmtDate,omitempty"`
	GMTTime   string         `json:"gmtTime,omitempty"` // HH:MM:SS
	GMTOffset string         `json:"gmtOffset,omitempty"`
}

type ActivityStatus struct {
	Type        string `json:"type"`
	Description string `json:"description"`
	Code        string `json:"code"`
	StatusCode  string `json:"statusCode,omitempty"`
}

type TrackAddress struct {
	City          string `json:"city,omitempty"`
	StateProvince string `json:"stateProvince,omitempty"`
	CountryCode   string `json:"countryCode,omitempty"`
}

// String is e.g. "Louisville, KY, US".
func (a TrackAddress) String() string {
	var parts []string
	for _, p := range []string{a.City, a.StateProvince, a.CountryCode} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// time is when the scan happened: from the GMT fields when UPS gives them,
// else the local date and time read as UTC.
func (a Activity) time() time.Time {
	if a.GMTDate != "" && a.GMTTime != "" {
		if t, err := time.Parse("20060102 15:04:05", a.GMTDate+" "+a.GMTTime); err == nil {
			return t.UTC()
		}
	}
	t, _ := time.Parse("20060102 150405", a.Date+" "+a.Time)
	return t
}
