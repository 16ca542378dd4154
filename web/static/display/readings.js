// How one reading reads on the patient's screen: the kind's name, the main value with its unit, and the
// secondary values (a blood pressure's pulse). Units are carehub's canonical ones (docs/rules.md).
import { t } from '/common/i18n.js';
import { number } from '/common/format.js';

const KINDS = {
  'blood-pressure': (v) => ({
    value: t('value.bp', { systolic: number(v.systolic, 0), diastolic: number(v.diastolic, 0) }),
    unit: t('unit.mmHg'),
    extra: v.pulse !== undefined ? t('value.pulse', { pulse: number(v.pulse, 0) }) : '',
  }),
  'body-weight': (v) => ({ value: number(v.value, 1), unit: t('unit.kg') }),
  'body-temperature': (v) => ({ value: number(v.value, 1), unit: t('unit.celsius') }),
  spo2: (v) => ({
    value: number(v.value, 0), unit: t('unit.percent'),
    extra: v.pulse !== undefined ? t('value.pulse', { pulse: number(v.pulse, 0) }) : '',
  }),
  glucose: (v) => ({ value: number(v.value, 0), unit: t('unit.mgdl') }),
  'heart-rate': (v) => ({ value: number(v.value, 0), unit: t('unit.bpm') }),
};

// The kinds a patient measures; room sensors (temperature, motion…) are not the patient's readings.
export const PATIENT_KINDS = Object.keys(KINDS);

export function describe(reading) {
  const format = KINDS[reading.kind];
  const shown = format ? format(reading.values ?? {}) : { value: '', unit: '' };
  return { name: t(`kind.${reading.kind}`), extra: '', ...shown };
}
