// UK Core's NHS number verification status extension, mirrored with UK Core's
// URL (the UK Core package is not available offline).
Extension: NHSNumberVerificationStatus
Id: Extension-UKCore-NHSNumberVerificationStatus
Title: "NHS Number Verification Status, as UK Core"
Description: "Whether the NHS number has been verified against the national spine."
* ^url = "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus"
* ^context.type = #element
* ^context.expression = "Patient.identifier"
* value[x] only CodeableConcept
* valueCodeableConcept 1..1
* valueCodeableConcept from UKCoreNHSNumberVerificationStatus (required)

Profile: HearthPatient
Parent: Patient
Id: HearthPatient
Title: "Hearth Patient"
Description: "A person cared for by a neighbourhood team: identified by NHS number (Modulus 11 checked), named, with a date of birth and a postcode on each address. Identifier systems and extension as UK Core Patient."
* identifier MS
* identifier ^slicing.discriminator.type = #value
* identifier ^slicing.discriminator.path = "system"
* identifier ^slicing.rules = #open
* identifier contains nhsNumber 0..1 MS
* identifier[nhsNumber].system 1..1
* identifier[nhsNumber].system = $NHS (exactly)
* identifier[nhsNumber].value 1..1
* identifier[nhsNumber].value obeys hearth-nhs-1
* identifier[nhsNumber].extension contains NHSNumberVerificationStatus named nhsNumberVerificationStatus 0..1 MS
* name 1..* MS
* gender MS
* birthDate 1..1 MS
* address MS
* address.postalCode 1..1 MS
* generalPractitioner MS
* managingOrganization MS
