// One neighbourhood story: Grace Okafor (85, frail, lives alone in Leeds), her
// GP practice, the community nursing service, her care coordinator and team.

Instance: grace-okafor
InstanceOf: HearthPatient
Usage: #example
Title: "Grace Okafor"
Description: "A frail older person on the neighbourhood caseload."
* identifier[nhsNumber].system = $NHS
* identifier[nhsNumber].value = "9434765919"
* identifier[nhsNumber].extension[nhsNumberVerificationStatus].valueCodeableConcept = $UKCORE_NHSVS#01 "Number present and verified"
* name.family = "Okafor"
* name.given = "Grace"
* gender = #female
* birthDate = "1941-03-09"
* address.line = "14 Mill Lane"
* address.city = "Leeds"
* address.postalCode = "LS6 2AB"
* generalPractitioner = Reference(hyde-park-surgery)

Instance: hyde-park-surgery
InstanceOf: HearthOrganization
Usage: #example
Title: "Hyde Park Surgery"
Description: "A GP practice (fictional ODS code)."
* identifier[odsOrganisationCode].system = $ODS
* identifier[odsOrganisationCode].value = "Y99001"
* active = true
* name = "Hyde Park Surgery"
* address.city = "Leeds"
* address.postalCode = "LS6 1AA"

Instance: leeds-community-nursing
InstanceOf: HearthOrganization
Usage: #example
Title: "Leeds Community Nursing"
Description: "The community nursing service of the neighbourhood (fictional ODS code)."
* identifier[odsOrganisationCode].system = $ODS
* identifier[odsOrganisationCode].value = "Y99002"
* active = true
* name = "Leeds Community Nursing"

Instance: nurse-amara-patel
InstanceOf: HearthPractitioner
Usage: #example
Title: "Amara Patel, community nurse"
Description: "A district nurse, registered with the NMC."
* identifier[nmcNumber].system = $NMC
* identifier[nmcNumber].value = "12A3456E"
* name.family = "Patel"
* name.given = "Amara"
* name.prefix = "Ms"

Instance: dr-tom-walsh
InstanceOf: HearthPractitioner
Usage: #example
Title: "Dr Tom Walsh, GP"
Description: "A GP, registered with the GMC."
* identifier[gmcNumber].system = $GMC
* identifier[gmcNumber].value = "7012345"
* name.family = "Walsh"
* name.given = "Tom"
* name.prefix = "Dr"

Instance: nurse-amara-patel-at-lcn
InstanceOf: HearthPractitionerRole
Usage: #example
Title: "Amara Patel at Leeds Community Nursing"
Description: "The role a care coordinator acts through."
* active = true
* practitioner = Reference(nurse-amara-patel)
* organization = Reference(leeds-community-nursing)
* code.text = "District nurse"

Instance: dr-tom-walsh-at-hyde-park
InstanceOf: HearthPractitionerRole
Usage: #example
Title: "Dr Tom Walsh at Hyde Park Surgery"
Description: "The referring GP's role."
* active = true
* practitioner = Reference(dr-tom-walsh)
* organization = Reference(hyde-park-surgery)
* code.text = "General practitioner"
