/**
 * Labelled form fields whose error sits right under them, and the glue that turns a zod
 * result or a server `fields` map into per-field messages (`takeProfits.1` and all).
 */
import { useId, type ChangeEvent, type ReactNode } from 'react';
import { LIMITS } from '../../shared/limits.js';

export interface FieldProps {
  label: string;
  error?: string | undefined;
  hint?: string;
  className?: string;
  /** Render the control with the ids it needs for its label and error. */
  children: (ids: { id: string; 'aria-invalid': boolean; 'aria-describedby': string | undefined }) => ReactNode;
}

export function Field(props: FieldProps) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [props.error ? errorId : null, props.hint ? hintId : null].filter(Boolean).join(' ');
  return (
    <div className={`field${props.error ? ' field--invalid' : ''}${props.className ? ` ${props.className}` : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children({ id, 'aria-invalid': Boolean(props.error), 'aria-describedby': describedBy || undefined })}
      {props.hint && !props.error ? (
        <p className="field__hint" id={hintId}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p className="field__error" id={errorId} role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

export interface PasswordFieldProps extends Omit<FieldProps, 'children'> {
  name: string;
  autoComplete: 'current-password' | 'new-password' | 'off';
  value: string;
  onChange: (e: ChangeEvent<HTMLInputElement>) => void;
  autoFocus?: boolean;
}

/** A labelled password input (or any secret typed in and never shown). */
export function PasswordField({ name, autoComplete, value, onChange, autoFocus, ...field }: PasswordFieldProps) {
  return (
    <Field {...field}>
      {(ids) => (
        <input
          {...ids}
          type="password"
          name={name}
          autoComplete={autoComplete}
          value={value}
          onChange={onChange}
          autoFocus={autoFocus}
        />
      )}
    </Field>
  );
}

/** The input of a password being chosen: the rule it must meet is its hint. */
export function NewPasswordField(props: Omit<PasswordFieldProps, 'autoComplete' | 'hint'>) {
  return (
    <PasswordField {...props} autoComplete="new-password" hint={`At least ${LIMITS.passwordMinChars} characters.`} />
  );
}

/** A number input's value: undefined when empty, NaN when not a number (zod reports both). */
export function numberOf(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return Number(trimmed.replace(',', '.'));
}

export function optionalText(text: string): string | undefined {
  const trimmed = text.trim();
  return trimmed === '' ? undefined : trimmed;
}
