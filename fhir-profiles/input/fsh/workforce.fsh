Profile: HearthOrganization
Parent: Organization
Id: HearthOrganization
Title: "Hearth Organization"
Description: "A GP practice, trust, council or voluntary sector organisation; ODS code as UK Core Organization."
* identifier MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains odsOrganisationCode 0..1 MS and odsSiteCode 0..1 MS
* identifier[odsOrganisationCode].system 1..1
* identifier[odsOrganisationCode].system = $ODS (exactly)
* identifier[odsOrganisationCode].value 1..1
* identifier[odsSiteCode].system 1..1
* identifier[odsSiteCode].system = $ODSSITE (exactly)
* identifier[odsSiteCode].value 1..1
* name 1..1 MS
* active MS
* type MS
* telecom MS
* address MS

Profile: HearthPractitioner
Parent: Practitioner
Id: HearthPractitioner
Title: "Hearth Practitioner"
Description: "A professional of the neighbourhood team, with professional register and SDS identifiers as UK Core Practitioner."
* identifier MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains gmcNumber 0..1 MS and nmcNumber 0..1 MS and hcpcNumber 0..1 MS and gphcNumber 0..1 MS and sdsUserId 0..1 MS
* identifier[gmcNumber].system 1..1
* identifier[gmcNumber].system = $GMC (exactly)
* identifier[gmcNumber].value 1..1
* identifier[nmcNumber].system 1..1
* identifier[nmcNumber].system = $NMC (exactly)
* identifier[nmcNumber].value 1..1
* identifier[hcpcNumber].system 1..1
* identifier[hcpcNumber].system = $HCPC (exactly)
* identifier[hcpcNumber].value 1..1
* identifier[gphcNumber].system 1..1
* identifier[gphcNumber].system = $GPHC (exactly)
* identifier[gphcNumber].value 1..1
* identifier[sdsUserId].system 1..1
* identifier[sdsUserId].system = $SDSUSER (exactly)
* identifier[sdsUserId].value 1..1
* name 1..* MS
* telecom MS

Profile: HearthPractitionerRole
Parent: PractitionerRole
Id: HearthPractitionerRole
Title: "Hearth PractitionerRole"
Description: "A practitioner working for an organisation: the identity users act through."
* identifier MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains sdsRoleProfileId 0..1 MS
* identifier[sdsRoleProfileId].system 1..1
* identifier[sdsRoleProfileId].system = $SDSROLE (exactly)
* identifier[sdsRoleProfileId].value 1..1
* active MS
* period MS
* practitioner 1..1 MS
* practitioner only Reference(HearthPractitioner)
* organization 1..1 MS
* organization only Reference(HearthOrganization)
* code MS
* specialty MS
* telecom MS
