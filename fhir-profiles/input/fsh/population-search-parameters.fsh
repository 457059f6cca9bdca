// Search parameters of population health (equity measures break counts down
// by them; partners can query them too). The codes are those of
// server/src/population/codes.ts.

Instance: Patient-ethnicity
InstanceOf: SearchParameter
Usage: #definition
Title: "Patient ethnic category"
* url = "https://hearth.example/fhir/SearchParameter/Patient-ethnicity"
* name = "ethnicity"
* status = #active
* description = "The person's ethnic category (UK Core ethnic category extension, NHS Data Dictionary ETHNIC CATEGORY letters), e.g. ethnicity=https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland|A."
* code = #ethnicity
* base = #Patient
* type = #token
* expression = "Patient.extension.where(url = 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory').value"
* xpathUsage = #normal

Instance: Patient-deprivation-decile
InstanceOf: SearchParameter
Usage: #definition
Title: "Patient deprivation decile"
* url = "https://hearth.example/fhir/SearchParameter/Patient-deprivation-decile"
* name = "deprivation-decile"
* status = #active
* description = "The Index of Multiple Deprivation decile (1 = most deprived tenth of areas in England, 10 = least) of the person's address (Hearth extension on Patient.address), e.g. deprivation-decile=le3."
* code = #deprivation-decile
* base = #Patient
* type = #number
* expression = "Patient.address.extension.where(url = 'https://hearth.example/fhir/StructureDefinition/imd-decile').value"
* xpathUsage = #normal
