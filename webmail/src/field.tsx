/** A labelled text input bound to a string. */
export function Field({
  label,
  value,
  onValue,
  type = 'text',
  name,
  autocomplete,
  inputMode,
  required = false,
  minLength,
  maxLength,
}: {
  label: string;
  value: string;
  onValue: (value: string) => void;
  type?: 'text' | 'email' | 'password';
  name?: string;
  autocomplete?: string;
  inputMode?: 'numeric' | 'text';
  required?: boolean;
  minLength?: number;
  maxLength?: number;
}) {
  return (
    <label>
      {label}{' '}
      <input
        // Preact types `type` with the roles each value allows; these three are all plain text boxes.
        type={type as 'text'}
        name={name}
        autocomplete={autocomplete}
        inputMode={inputMode}
        required={required}
        minLength={minLength}
        maxLength={maxLength}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
    </label>
  );
}
