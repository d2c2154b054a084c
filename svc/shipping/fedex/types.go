package fedex

import "strings"

// The JSON shapes of FedEx's APIs that the adapter sends and reads, with
// FedEx's field names.

type Account struct {
	Value string `json:"value"`
}

type Address struct {
	StreetLines         []string `json:"streetLines,omitempty"`
	City                string   `json:"city,omitempty"`
	StateOrProvinceCode string   `json:"stateOrProvinceCode,omitempty"`
	PostalCode          string   `json:"postalCode,omitempty"`
	CountryCode         string   `json:"countryCode"`
}

type Contact struct {
	PersonName  string `json:"personName,omitempty"`
	CompanyName string `json:"companyName,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

type Party struct {
	Contact *Contact `json:"contact,omitempty"`
	Address Address  `json:"address"`
}

type Weight struct {
	Units string  `json:"units"` // LB or KG
	Value float64 `json:"value"`
}

type Dimensions struct {
	Length int64  `json:"length"`
	Width  int64  `json:"width"`
	Height int64  `json:"height"`
	Units  string `json:"units"` // IN or CM
}

type CustomerReference struct {
	CustomerReferenceType string `json:"customerReferenceType"`
	Value                 string `json:"value"`
}

type PackageLineItem struct {
	Weight             Weight              `json:"weight"`
	Dimensions         *Dimensions         `json:"dimensions,omitempty"`
	CustomerReferences []CustomerReference `json:"customerReferences,omitempty"`
}

// RateRequest is the body of POST /rate/v1/rates/quotes.
type RateRequest struct {
	AccountNumber     Account      `json:"accountNumber"`
	RequestedShipment RateShipment `json:"requestedShipment"`
}

type RateShipment struct {
	Shipper                   Party             `json:"shipper"`
	Recipient                 Party             `json:"recipient"`
	PickupType                string            `json:"pickupType"`
	RateRequestType           []string          `json:"rateRequestType"`
	RequestedPackageLineItems []PackageLineItem `json:"requestedPackageLineItems"`
}

// ShipRequest is the body of POST /ship/v1/shipments.
type ShipRequest struct {
	LabelResponseOptions string   `json:"labelResponseOptions"` // LABEL: the label inline, base64
	AccountNumber        Account  `json:"accountNumber"`
	RequestedShipment    Shipment `json:"requestedShipment"`
}

type Shipment struct {
	Shipper                   Party              `json:"shipper"`
	Recipients                []Party            `json:"recipients"`
	ShipDatestamp             string             `json:"shipDatestamp"`
	ServiceType               string             `json:"serviceType"`
	PackagingType             string             `json:"packagingType"`
	PickupType                string             `json:"pickupType"`
	ShippingChargesPayment    Payment            `json:"shippingChargesPayment"`
	LabelSpecification        LabelSpecification `json:"labelSpecification"`
	RequestedPackageLineItems []PackageLineItem  `json:"requestedPackageLineItems"`
}

type Payment struct {
	PaymentType string `json:"paymentType"`
}

type LabelSpecification struct {
	ImageType      string `json:"imageType"`
	LabelStockType string `json:"labelStockType"`
}

// CancelRequest is the body of PUT /ship/v1/shipments/cancel.
type CancelRequest struct {
	AccountNumber     Account `json:"accountNumber"`
	EmailShipment     bool    `json:"emailShipment"`
	SenderCountryCode string  `json:"senderCountryCode"`
	DeletionControl   string  `json:"deletionControl"`
	TrackingNumber    string  `json:"trackingNumber"`
}

// TrackRequest is the body of POST /track/v1/trackingnumbers.
type TrackRequest struct {
	IncludeDetailedScans bool           `json:"includeDetailedScans"`
	TrackingInfo         []TrackingInfo `json:"trackingInfo"`
}

type TrackingInfo struct {
	TrackingNumberInfo TrackingNumberInfo `json:"trackingNumberInfo"`
}

type TrackingNumberInfo struct {
	TrackingNumber string `json:"trackingNumber"`
}

type TrackResponse struct {
	Output struct {
		CompleteTrackResults []struct {
			TrackingNumber string        `json:"trackingNumber"`
			TrackResults   []TrackResult `json:"trackResults"`
		} `json:"completeTrackResults"`
	} `json:"output"`
}

type TrackResult struct {
	LatestStatusDetail struct {
		Code        string `json:"code"`
		DerivedCode string `json:"derivedCode"`
		Description string `json:"description"`
	} `json:"latestStatusDetail"`
	DateAndTimes []struct {
		Type     string `json:"type"`
		DateTime string `json:"dateTime"`
	} `json:"dateAndTimes"`
	ScanEvents []ScanEvent `json:"scanEvents"`
	Error      *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

type ScanEvent struct {
	Date              string       `json:"date"` // RFC 3339 with the local offset
	EventType         string       `json:"eventType"`
	EventDescription  string       `json:"eventDescription"`
	DerivedStatusCode string       `json:"derivedStatusCode"`
	ScanLocation      ScanLocation `json:"scanLocation"`
}

type ScanLocation struct {
	City                string `json:"city,omitempty"`
	StateOrProvinceCode string `json:"stateOrProvinceCode,omitempty"`
	CountryCode         string `json:"countryCode,omitempty"`
}

// String is e.g. "Memphis, TN, US".
func (l ScanLocation) String() string {
	var parts []string
	for _, p := range []string{l.City, l.StateOrProvinceCode, l.CountryCode} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}
