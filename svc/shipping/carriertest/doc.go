// Package carriertest holds the contract suite every shipping.LabelCarrier
// adapter passes: the local carrier, UPS against upstest and FedEx against
// fedextest. The suite is in contract_test.go; a new adapter joins it by
// adding a target there.
package carriertest
