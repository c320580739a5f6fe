/** Reference lists the synthetic generator draws from. Real drug names, doses and schedules. */

export const VI_FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Vũ', 'Võ', 'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô', 'Dương', 'Lý'];
export const VI_MIDDLE_F = ['Thị', 'Ngọc', 'Thu', 'Thanh', 'Kim', 'Mỹ'];
export const VI_MIDDLE_M = ['Văn', 'Hữu', 'Đức', 'Minh', 'Quốc', 'Công'];
export const VI_GIVEN_F = ['Hồng', 'Lan', 'Phương', 'Thảo', 'Hương', 'Quỳnh', 'Nga', 'Thủy', 'Yến', 'Ánh', 'Trâm', 'Ngân', 'Hạnh', 'Diệp', 'Liễu'];
export const VI_GIVEN_M = ['Hùng', 'Dũng', 'Anh', 'Hải', 'Tuấn', 'Bảo', 'Khánh', 'Hiếu', 'Đạt', 'Long', 'Sơn', 'Thắng', 'Lộc', 'Nghĩa', 'Trọng'];
export const EN_FAMILY = ['Smith', "O'Brien", 'Nguyen-Walker', 'Johnson', 'Williams', 'MacDonald', 'Brown', 'Taylor'];
export const EN_GIVEN_F = ['Margaret', 'Emily', 'Sarah', 'Grace', 'Charlotte'];
export const EN_GIVEN_M = ['James', 'Robert', 'William', 'Thomas', 'Henry'];

export const CLINICIANS = [
  'BS. Trần Quang Khải',
  'BS. Lê Thị Mai',
  'BS. Nguyễn Hoàng Phúc',
  'BS. Phạm Minh Châu',
  'Dr. Helen Carter',
  'BS. Đỗ Thanh Bình',
];
export const NURSES = ['ĐD. Hoa', 'ĐD. Tâm', 'ĐD. Linh', 'RN Jones', 'ĐD. Quân', 'ĐD. Vân'];

export interface DiagnosisDef {
  text: string;
  code: string;
}
export const DIAGNOSES: readonly DiagnosisDef[] = [
  { text: 'Community-acquired pneumonia', code: 'J18.9' },
  { text: 'Acute on chronic heart failure', code: 'I50.9' },
  { text: 'COPD with acute exacerbation', code: 'J44.1' },
  { text: 'Type 2 diabetes with hyperglycaemia', code: 'E11.65' },
  { text: 'Acute ischaemic stroke', code: 'I63.9' },
  { text: 'Dengue fever', code: 'A90' },
  { text: 'Alcoholic cirrhosis of liver', code: 'K70.3' },
  { text: 'Urinary tract infection', code: 'N39.0' },
  { text: 'Cellulitis of lower limb', code: 'L03.11' },
  { text: 'Acute kidney injury', code: 'N17.9' },
  { text: 'Upper gastrointestinal bleeding', code: 'K92.2' },
  { text: 'Sepsis, unspecified organism', code: 'A41.9' },
];

export interface AllergyDef {
  substance: string;
  reaction: string;
  criticality: 'low' | 'high';
  category: 'medication' | 'food' | 'environment';
}
export const ALLERGENS: readonly AllergyDef[] = [
  { substance: 'Penicillin', reaction: 'Anaphylaxis', criticality: 'high', category: 'medication' },
  { substance: 'Sulfonamide antibiotics', reaction: 'Rash', criticality: 'low', category: 'medication' },
  { substance: 'Aspirin', reaction: 'Bronchospasm', criticality: 'high', category: 'medication' },
  { substance: 'Peanut', reaction: 'Urticaria, angioedema', criticality: 'high', category: 'food' },
  { substance: 'Latex', reaction: 'Contact dermatitis', criticality: 'low', category: 'environment' },
  { substance: 'Iodinated contrast media', reaction: 'Hives', criticality: 'low', category: 'medication' },
  { substance: 'Codeine', reaction: 'Nausea and vomiting', criticality: 'low', category: 'medication' },
  { substance: 'Shellfish (tôm, cua)', reaction: 'Urticaria', criticality: 'low', category: 'food' },
];

export interface DrugDef {
  drug: string;
  dose: string;
  route: string;
  frequency: string;
  /** Times per day as HH:MM; empty for PRN or continuous. */
  times: string[];
  prnReason?: string;
  instructions?: string;
}
export const DRUGS: readonly DrugDef[] = [
  { drug: 'Paracetamol 500 mg tablet', dose: '1 g', route: 'oral', frequency: 'every 6 hours', times: ['06:00', '12:00', '18:00', '24:00'] },
  { drug: 'Amoxicillin/clavulanic acid 1.2 g injection', dose: '1.2 g', route: 'IV', frequency: 'every 8 hours', times: ['06:00', '14:00', '22:00'] },
  { drug: 'Ceftriaxone 1 g injection', dose: '2 g', route: 'IV', frequency: 'once daily', times: ['08:00'] },
  { drug: 'Enoxaparin 40 mg/0.4 mL injection', dose: '40 mg', route: 'subcutaneous', frequency: 'once daily', times: ['20:00'] },
  { drug: 'Heparin 5,000 units/mL injection', dose: '5,000 units', route: 'subcutaneous', frequency: 'every 12 hours', times: ['08:00', '20:00'] },
  { drug: 'Insulin glargine 100 units/mL', dose: '20 units', route: 'subcutaneous', frequency: 'once daily at bedtime', times: ['22:00'] },
  { drug: 'Insulin aspart 100 units/mL', dose: 'per sliding scale', route: 'subcutaneous', frequency: 'with meals', times: ['07:00', '11:00', '17:00'], instructions: 'Check capillary glucose before each dose' },
  { drug: 'Metformin 500 mg tablet', dose: '500 mg', route: 'oral', frequency: 'twice daily', times: ['08:00', '20:00'] },
  { drug: 'Amlodipine 5 mg tablet', dose: '5 mg', route: 'oral', frequency: 'once daily', times: ['08:00'] },
  { drug: 'Omeprazole 40 mg injection', dose: '40 mg', route: 'IV', frequency: 'once daily', times: ['08:00'] },
  { drug: 'Furosemide 20 mg/2 mL injection', dose: '40 mg', route: 'IV', frequency: 'twice daily', times: ['08:00', '16:00'] },
  { drug: 'Potassium chloride 10% (1 g/10 mL) injection', dose: '1 g in 500 mL NaCl 0.9%', route: 'IV infusion', frequency: 'once daily', times: ['10:00'], instructions: 'Infuse over at least 4 hours. Never as a bolus.' },
  { drug: 'Morphine 10 mg/mL injection', dose: '2 mg', route: 'IV', frequency: 'every 4 hours as needed', times: [], prnReason: 'severe pain (score ≥ 7)' },
  { drug: 'Ondansetron 8 mg/4 mL injection', dose: '4 mg', route: 'IV', frequency: 'every 8 hours as needed', times: [], prnReason: 'nausea or vomiting' },
  { drug: 'Salbutamol 2.5 mg/2.5 mL nebuliser solution', dose: '2.5 mg', route: 'inhalation', frequency: 'every 4 hours as needed', times: [], prnReason: 'wheeze or shortness of breath' },
  { drug: 'Atorvastatin 20 mg tablet', dose: '20 mg', route: 'oral', frequency: 'once daily at night', times: ['21:00'] },
  { drug: 'Bisoprolol 2.5 mg tablet', dose: '2.5 mg', route: 'oral', frequency: 'once daily', times: ['08:00'], instructions: 'Hold if heart rate < 55 or systolic BP < 95' },
  { drug: 'Vancomycin 1 g injection', dose: '1 g', route: 'IV infusion', frequency: 'every 12 hours', times: ['09:00', '21:00'], instructions: 'Trough level before 4th dose' },
  { drug: 'Metronidazole 500 mg/100 mL infusion', dose: '500 mg', route: 'IV infusion', frequency: 'every 8 hours', times: ['06:00', '14:00', '22:00'] },
  { drug: 'Levothyroxine 50 mcg tablet', dose: '50 mcg', route: 'oral', frequency: 'once daily before breakfast', times: ['06:00'] },
  { drug: 'Lactulose 10 g/15 mL oral solution', dose: '15 mL', route: 'oral', frequency: 'twice daily', times: ['08:00', '20:00'] },
  { drug: 'Tramadol 50 mg capsule', dose: '50 mg', route: 'oral', frequency: 'every 6 hours as needed', times: [], prnReason: 'moderate pain' },
  { drug: 'Warfarin 1 mg tablet', dose: '3 mg', route: 'oral', frequency: 'once daily', times: ['17:00'], instructions: 'Dose by INR; check today\'s INR before giving' },
  { drug: 'Magnesium sulfate 50% injection', dose: '2 g in 100 mL NaCl 0.9%', route: 'IV infusion', frequency: 'once daily', times: ['10:00'] },
  { drug: 'Dexamethasone 4 mg/mL injection', dose: '6 mg', route: 'IV', frequency: 'once daily', times: ['08:00'] },
  { drug: 'Spironolactone 25 mg tablet', dose: '25 mg', route: 'oral', frequency: 'once daily', times: ['08:00'] },
  { drug: 'Clopidogrel 75 mg tablet', dose: '75 mg', route: 'oral', frequency: 'once daily', times: ['08:00'] },
  { drug: 'Aspirin 81 mg tablet', dose: '81 mg', route: 'oral', frequency: 'once daily', times: ['08:00'] },
  { drug: 'Lorazepam 1 mg tablet', dose: '1 mg', route: 'oral', frequency: 'at night as needed', times: [], prnReason: 'insomnia or agitation' },
  { drug: 'Sodium chloride 0.9% 1000 mL infusion', dose: '1000 mL at 80 mL/h', route: 'IV infusion', frequency: 'continuous', times: [] },
  { drug: 'Pantoprazole 40 mg tablet', dose: '40 mg', route: 'oral', frequency: 'once daily before breakfast', times: ['06:00'] },
  { drug: 'Amikacin 500 mg/2 mL injection', dose: '15 mg/kg', route: 'IV infusion', frequency: 'once daily', times: ['12:00'] },
];

export const CODE_STATUSES = ['Full code', 'Full code', 'Full code', 'DNR', 'DNR/DNI'];
export const ISOLATIONS = ['Contact isolation', 'Droplet isolation', 'Airborne isolation'];
export const OTHER_FLAGS = ['Fall risk', 'Pressure injury risk', 'Swallowing difficulty: nil by mouth'];
