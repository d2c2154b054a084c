package order

// HoldKey lets tests make the stock hold a checkout would make.
var HoldKey = holdKey
