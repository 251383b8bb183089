package servicenow

// CheckDialAddr is the dialler's address check, for tests.
var CheckDialAddr = checkDialAddr
