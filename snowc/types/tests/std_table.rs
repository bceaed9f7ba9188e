mod common;
use snowc_syntax::SourceMap;

#[test]
fn every_std_file_parses_and_the_table_builds() {
    let mut sources = SourceMap::default();
    let (table, diags) = snowc_types::std_lib::load(&mut sources);
    assert!(
        diags.is_empty(),
        "{}",
        snowc_syntax::render::render(&diags, &sources, false)
    );
    assert_eq!(sources.files.len(), snowc_types::std_lib::std_files().len());
    let ws = table.extern_by_name("Ws.join").unwrap();
    assert_eq!(ws.symbol, "snow_ws_join");
    assert_eq!(
        table.extern_by_name("println").unwrap().symbol,
        "snow_println"
    );
    assert_eq!(table.ctors["None"].tag, 1);
    assert_eq!(table.ctors["Binary"].tag, 1);
    // Spot checks only: std grows without compiler edits, so no full snapshot here.
    let d = snowc_types::std_lib::describe(&table);
    for line in [
        "type Option<a> = Some(a) | None",
        "type Result<a, e> = Ok(a) | Err(e)",
        "type Frame = Text(String) | Binary(Bytes)",
        "type Conn",
        "extern Ws.join (snow_ws_join): (Conn, String) -> Int",
        "extern List.get (snow_list_get): (List<a>, Int) -> Option<a>",
        "extern Map.put (snow_map_put): (Map<a, b>, a, b) -> Map<a, b>",
        "extern println (snow_println): (String) -> ()",
        "extern Ws.serve (snow_ws_serve): (Fun(Conn, String, Map<String, String>) -> Bool, Fun(Conn, String) -> a, Fun(Conn, Int, String) -> b, Int) -> ()",
        "fn List.fold/3",
        "fn Ws.join_all/2",
    ] {
        assert!(d.lines().any(|l| l == line), "missing {line:?} in\n{d}");
    }
}

#[test]
fn every_std_function_type_checks() {
    // A program that references every public std function, so all of them are checked and emitted.
    let mut sources = SourceMap::default();
    let (table, diags) = snowc_types::std_lib::load(&mut sources);
    assert!(diags.is_empty());
    let mut body = String::new();
    for m in &table.modules {
        for (name, item) in &m.items {
            if item.public {
                if m.prelude {
                    body.push_str(&format!("  let _f = {name}\n"));
                } else {
                    body.push_str(&format!("  let _f = {}.{name}\n", m.name));
                }
            }
        }
    }
    let src = format!("fn main() do\n{body}end\n");
    let p = common::ok(&src);
    let std_fns = p.functions.iter().filter(|f| f.name.contains('.')).count();
    assert_eq!(
        std_fns,
        table.fns.len(),
        "every std Snow function is reachable"
    );
    let sigs = snowc_types::print::signatures(&p);
    for line in [
        "fn List.fold(xs :: List<a>, acc :: b, f :: Fun(b, a) -> b) -> b",
        "fn Ws.join_all(conn :: Conn, rooms :: List<String>) -> Int",
        "extern Map.new = snow_map_new/2",
        "extern Ws.serve = snow_ws_serve/2",
        "extern List.contains = snow_list_contains/1",
    ] {
        assert!(
            sigs.lines().any(|l| l == line),
            "missing {line:?} in\n{sigs}"
        );
    }
    // Every public extern is referenced, and no private one is (a private
    // extern would be referenced only where a std function needs it; there is
    // none today: `List.sort_by` became an extern of its own).
    let public = |e: &snowc_types::std_lib::ExternSig| {
        table.modules[e.module].items[e.name.rsplit('.').next().unwrap()].public
    };
    for e in table.externs.iter().filter(|e| public(e)) {
        assert!(p.externs.iter().any(|x| x.name == e.name), "{}", e.name);
    }
    let private: Vec<&str> = p
        .externs
        .iter()
        .filter(|x| !public(table.extern_by_name(&x.name).unwrap()))
        .map(|x| x.name.as_str())
        .collect();
    assert_eq!(private, Vec::<&str>::new());
    let syms: Vec<&str> = p.externs.iter().map(|e| e.symbol.as_str()).collect();
    let mut sorted = syms.clone();
    sorted.sort();
    assert_eq!(syms, sorted, "externs sorted by symbol");
}

#[test]
fn module_names_come_from_paths() {
    use snowc_types::std_lib::module_name;
    assert_eq!(module_name("prelude.snow"), ("Prelude".to_string(), true));
    assert_eq!(module_name("string.snow"), ("String".to_string(), false));
    assert_eq!(module_name("ws/ws.snow"), ("Ws".to_string(), false));
    assert_eq!(module_name("ws/rooms.snow"), ("Ws".to_string(), false));
}

#[test]
fn a_new_std_module_is_picked_up_from_source() {
    // build() is what load() runs on the embedded files: a module is just a file.
    let mut sources = SourceMap::default();
    let src = "pub type Token\npub extern fn make(n :: Int) -> Token\npub fn twice(n :: Int) -> List<Token> = [make(n), make(n)]\nfn hidden() = 1\n";
    let file = sources.add("std/tok.snow", src);
    let (m, d) = snowc_syntax::parse(file, src);
    assert!(d.is_empty());
    let (table, diags) = snowc_types::std_lib::build(vec![("tok.snow".into(), file, m)]);
    assert!(diags.is_empty());
    let e = table.extern_by_name("Tok.make").unwrap();
    assert_eq!(e.symbol, "snow_tok_make");
    assert!(table.lookup("Tok", "twice").is_some());
    assert!(
        table.lookup("Tok", "hidden").is_none(),
        "private functions are not visible outside"
    );
}
